/**
 * One send per message when the delivery process dies: the process (from its build, `pnpm build`)
 * is killed with SIGKILL at each fault-injection point and at random moments under load, then
 * restarted; the SMTP sink shows what customers really received.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Subjects, subjectFor, streamName, type PayloadOf } from '@cdp/contracts';
import type { PrismaClient } from '@cdp/db';
import type { JetStreamPublisher } from '@cdp/messaging';
import { NATS_URL, freePort, REPO_ROOT, ServiceProcess, waitFor } from '@cdp/testing';
import type { Tenant } from './fixtures';
import { MessagesRun } from './support/messages-run';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;
const LOAD = 300;
const FINAL = ['sent', 'failed', 'unknown'];

describe('delivery crash safety: never two emails for one message', () => {
  const run = new MessagesRun('dqcrash');
  const { prefix, sink } = run;
  let db: PrismaClient;
  let publisher: JetStreamPublisher;
  let tenant: Tenant;
  let env: Record<string, string>;
  let nextCustomer = 0;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    const opened = await run.open(LOAD + 10);
    ({ db, tenant } = opened);
    env = {
      DATABASE_URL: run.databaseUrl,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(opened.smtpPort),
      // A killed process's jobs are picked up again after this lock expires.
      DELIVERY_JOB_LOCK_MS: '1500',
      DELIVERY_WORKER_CONCURRENCY: '20',
      DELIVERY_RATE_LIMIT_PER_SECOND: '2000',
    };
    publisher = await run.connectPublisher();
  });

  afterAll(() =>
    run.close(async () => {
      for (const p of processes) await p.kill();
    }),
  );

  async function startDelivery(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const delivery = new ServiceProcess('delivery', await freePort(), { ...env, ...extra });
    processes.push(delivery);
    delivery.start();
    await delivery.ready();
    return delivery;
  }

  const request = (): Requested => {
    const customerId = tenant.customerIds[nextCustomer++]!;
    return {
      workspaceId: tenant.workspaceId,
      idempotencyKey: `crash:${customerId}`,
      customerId,
      channel: 'email',
      recipient: `${customerId}@example.com`,
      template: { subject: 'Statement', body: 'Your statement for {{ month }} is ready.' },
      variables: { month: 'March' },
      requestedAt: new Date().toISOString(),
    };
  };
  const publish = (r: Requested) =>
    publisher.publish(Subjects.deliveryRequested, r, { msgId: `req:${r.idempotencyKey}` });
  const finalRow = (r: Requested) =>
    waitFor(
      `${r.idempotencyKey} to be final`,
      async () => {
        const row = await db.message.findUnique({ where: { idempotencyKey: r.idempotencyKey } });
        return row && FINAL.includes(row.status) ? row : undefined;
      },
      30_000,
    );
  const mailsTo = (recipient: string) => sink.received.filter((m) => m.to.includes(recipient)).length;

  it('refuses fault injection in production', () => {
    const result = spawnSync(process.execPath, ['dist/main.js'], {
      cwd: join(REPO_ROOT, 'apps/delivery'),
      env: { ...process.env, ...env, NODE_ENV: 'production', DELIVERY_FAULTS: 'after-claim' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('DELIVERY_FAULTS is set but NODE_ENV is production');
  });

  it('ends each fault point as the ledger promises: unknown (0 or 1 email) or sent (1 email, status published)', async () => {
    // Each process dies at its point; the next one takes over the dead one's job.
    const afterClaim = request();
    const crash1 = await startDelivery({ DELIVERY_FAULTS: 'after-claim' });
    await publish(afterClaim);
    expect(await crash1.exit()).toBe('SIGKILL');

    const afterAccept = request();
    const crash2 = await startDelivery({ DELIVERY_FAULTS: 'after-provider-accept' });
    await publish(afterAccept);
    expect(await crash2.exit()).toBe('SIGKILL');

    const beforePublish = request();
    const crash3 = await startDelivery({ DELIVERY_FAULTS: 'before-status-publish' });
    await publish(beforePublish);
    expect(await crash3.exit()).toBe('SIGKILL');

    const survivor = await startDelivery();
    const claimed = await finalRow(afterClaim);
    const accepted = await finalRow(afterAccept);
    const committed = await finalRow(beforePublish);
    // Died before the provider call: nothing sent, but the ledger cannot know that. Not resent.
    expect(claimed.status).toBe('unknown');
    expect(mailsTo(afterClaim.recipient)).toBe(0);
    // Died after the provider took it, before the commit: exactly one email, marked unknown.
    expect(accepted.status).toBe('unknown');
    expect(mailsTo(afterAccept.recipient)).toBe(1);
    // Died after the commit, before the status event: one email, and the event goes out on the rerun.
    expect(committed.status).toBe('sent');
    expect(mailsTo(beforePublish.recipient)).toBe(1);
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const status = await waitFor('the sent status event', () =>
        jsm.streams
          .getMessage(streamName(prefix, 'DELIVERY'), {
            last_by_subj: subjectFor(prefix, Subjects.deliveryStatus.name, tenant.workspaceId),
          })
          .then((m) => m?.json<{ messageId: string; status: string }>())
          .then((s) => (s?.messageId === committed.id ? s : undefined))
          .catch(() => undefined),
      );
      expect(status.status).toBe('sent');
    } finally {
      await nc.close();
    }
    const stats = await fetch(`${survivor.url}/v1/messages/stats`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    }).then((r) => r.json() as Promise<Record<string, number>>);
    expect(stats).toMatchObject({ unknown: 2, sent: 1, queued: 0, sending: 0 });
    expect(await survivor.stop()).toBe(0);
  });

  it(`survives SIGKILL at random moments under ${LOAD} sends: no recipient gets two emails`, async () => {
    const before = sink.received.length;
    const requests = Array.from({ length: LOAD }, request);
    let delivery = await startDelivery();
    await publisher.publishMany(
      requests.map((r) => ({
        subject: Subjects.deliveryRequested,
        payload: r,
        msgId: `req:${r.idempotencyKey}`,
      })),
    );
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 1200)));
      await delivery.kill();
      delivery = await startDelivery();
    }
    const rows = await waitFor(
      'every message final',
      async () => {
        const all = await db.message.findMany({ where: { idempotencyKey: { startsWith: 'crash:' } } });
        const mine = all.filter((m) => requests.some((r) => r.idempotencyKey === m.idempotencyKey));
        return mine.length === LOAD && mine.every((m) => FINAL.includes(m.status)) ? mine : undefined;
      },
      120_000,
      500,
    );
    expect(await delivery.stop()).toBe(0);

    const received = sink.received.slice(before).flatMap((m) => m.to);
    const perRecipient = new Map<string, number>();
    for (const to of received) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
    const twice = [...perRecipient].filter(([, n]) => n > 1);
    const byStatus = (s: string) => rows.filter((r) => r.status === s);
    const counts = {
      sent: byStatus('sent').length,
      unknown: byStatus('unknown').length,
      failed: byStatus('failed').length,
    };
    process.stdout.write(`crash load: ${JSON.stringify({ ...counts, emails: received.length })}\n`);

    expect(twice).toEqual([]);
    expect(counts.sent + counts.unknown + counts.failed).toBe(LOAD);
    // Every sent message reached its recipient once; an unknown one at most once; a failed one never.
    for (const row of byStatus('sent')) expect(perRecipient.get(row.recipient)).toBe(1);
    for (const row of byStatus('failed')) expect(perRecipient.get(row.recipient)).toBeUndefined();
    expect(received.length).toBeGreaterThanOrEqual(counts.sent);
    expect(received.length).toBeLessThanOrEqual(counts.sent + counts.unknown);
  });
});
