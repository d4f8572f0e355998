/**
 * Batch send jobs and per-account rate overrides, in one process on the real Postgres, Redis and
 * NATS with a real SMTP sink: requests arriving together share one job, yet each message keeps its
 * own ledger row, status, retry and dead-letter fate.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import type { PrismaClient } from '@cdp/db';
import type { JetStreamPublisher } from '@cdp/messaging';
import { waitFor, SmtpSink } from '@cdp/testing';
import { createTenant, type Tenant } from './fixtures';
import { MessagesRun } from './support/messages-run';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

describe('delivery batch jobs', () => {
  /** Recipients refused with a 451 once, then accepted (a transient failure of one batch member). */
  const refusedOnce = new Set<string>();
  const sink = new SmtpSink((recipient) => {
    // A slow server: every connection of the pool stays busy, the rest of the claims wait.
    if (recipient.startsWith('slow-')) return sleep(25).then(() => undefined);
    if (recipient.startsWith('bounce-')) return { code: 550, message: 'No such user here' };
    if (recipient.startsWith('flaky-') && !refusedOnce.has(recipient)) {
      refusedOnce.add(recipient);
      return { code: 451, message: 'Greylisted, try again later' };
    }
    return undefined;
  });
  const run = new MessagesRun('dqbatch', sink);
  let smtpPort: number;
  let db: PrismaClient;
  let app: NestFastifyApplication;
  let publisher: JetStreamPublisher;
  let tenant: Tenant;
  let nextCustomer = 0;

  beforeAll(async () => {
    ({ db, tenant, smtpPort } = await run.open(60));
    app = await run.startApp({
      SMTP_PORT: String(smtpPort),
      SMTP_POOL_SIZE: '2',
      DELIVERY_MAX_ATTEMPTS: '3',
      DELIVERY_BACKOFF_MS: '50',
      DELIVERY_RATE_LIMIT_PER_SECOND: '1000',
      // Long enough that requests published together land in one batch.
      DELIVERY_BATCH_WAIT_MS: '300',
      DELIVERY_BATCH_SIZE: '10',
    });
    publisher = await run.connectPublisher();
  });

  afterAll(() =>
    run.close(async () => {
      await app?.close();
    }),
  );

  const request = (recipientPrefix = '', workspace = tenant): Requested => {
    const customerId = workspace.customerIds[nextCustomer++ % workspace.customerIds.length]!;
    return {
      workspaceId: workspace.workspaceId,
      idempotencyKey: `batch:${randomUUID()}`,
      customerId,
      channel: 'email',
      recipient: `${recipientPrefix}${randomUUID()}@example.com`,
      template: { subject: 'Statement', body: 'Your statement for {{ month }} is ready.' },
      variables: { month: 'March' },
      requestedAt: new Date().toISOString(),
    };
  };
  const publishAll = (requests: Requested[]) =>
    publisher.publishMany(
      requests.map((r) => ({
        subject: Subjects.deliveryRequested,
        payload: r,
        msgId: `req:${r.idempotencyKey}`,
      })),
    );
  const rowsOf = (requests: Requested[]) =>
    db.message.findMany({ where: { idempotencyKey: { in: requests.map((r) => r.idempotencyKey) } } });
  const allFinal = (requests: Requested[]) =>
    waitFor('every message final', async () => {
      const rows = await rowsOf(requests);
      return rows.length === requests.length && rows.every((r) => ['sent', 'failed'].includes(r.status))
        ? rows
        : undefined;
    });
  const mailsTo = (recipient: string) => sink.received.filter((m) => m.to.includes(recipient)).length;
  const mailTo = (recipient: string) => sink.received.find((m) => m.to.includes(recipient))?.raw;
  const api = async (method: 'GET' | 'PUT' | 'POST', url: string, apiKey: string, payload?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${apiKey}` },
      ...(payload !== undefined && { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.json() };
  };

  it('sends the others of a batch once and fails and dead-letters only the refused recipient', async () => {
    const requests = [request(), request(), request('bounce-'), request(), request()];
    await publishAll(requests);
    const rows = await allFinal(requests);
    // One job carried them all.
    expect(new Set(rows.map((r) => r.sendJobId)).size).toBe(1);
    const bounced = rows.find((r) => r.recipient.startsWith('bounce-'))!;
    expect(bounced).toMatchObject({ status: 'failed', attempts: 1 });
    expect(bounced.error).toMatch(/550/);
    for (const row of rows.filter((r) => r !== bounced)) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect(mailsTo(row.recipient)).toBe(1);
    }
    expect(mailsTo(bounced.recipient)).toBe(0);
    const letters = await db.deadLetter.findMany({ where: { messageId: { in: rows.map((r) => r.id) } } });
    expect(letters.map((l) => l.messageId)).toEqual([bounced.id]);
    // The dead letter replays that message alone.
    expect((letters[0]!.payload as { messageId: string }).messageId).toBe(bounced.id);
  });

  it('keeps the claimed and unsent emails of an SMTP pool within two chunks of five times its size', async () => {
    // Six jobs of 10 at once (10 run at a time), a pool of 2: chunks of 10, at most 20 claimed.
    const requests = Array.from({ length: 60 }, () => request('slow-'));
    await publishAll(requests);
    // Claimed and not at the server yet: what a crash now would leave `unknown` unsent.
    let most = 0;
    for (let done = false; !done; await sleep(5)) {
      const rows = await rowsOf(requests);
      const waiting = rows.filter((r) => r.status === 'sending' && mailsTo(r.recipient) === 0);
      most = Math.max(most, waiting.length);
      done = rows.length === requests.length && rows.every((r) => r.status === 'sent');
    }
    expect(most).toBeGreaterThan(2);
    expect(most).toBeLessThanOrEqual(20);
    for (const r of requests) expect(mailsTo(r.recipient)).toBe(1);
  });

  it('retries a batch for its transient failure without sending the already-sent messages again', async () => {
    const requests = [request(), request('flaky-'), request(), request()];
    await publishAll(requests);
    const rows = await allFinal(requests);
    expect(new Set(rows.map((r) => r.sendJobId)).size).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    const flaky = rows.find((r) => r.recipient.startsWith('flaky-'))!;
    // Refused once (451), accepted on the job's second attempt.
    expect(flaky).toMatchObject({ status: 'sent', attempts: 2 });
    expect(mailsTo(flaky.recipient)).toBe(1);
    for (const row of rows.filter((r) => r !== flaky)) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect(mailsTo(row.recipient)).toBe(1);
    }
  });

  it('renders each request of a batch with the variant of its own template and locale', async () => {
    const template = (name: string, locale: string, body: string) =>
      api('POST', '/v1/templates', tenant.apiKey, {
        name,
        channel: 'email',
        locale,
        subject: 'Hi',
        body,
        sample: { first: 'Ada' },
      });
    const en = await template('batch-greeting', 'en', 'Hello {{ first }}');
    const de = await template('batch-greeting', 'de', 'Hallo {{ first }}');
    const other = await template('batch-other', 'en', 'Other {{ first }}');
    for (const t of [en, de, other]) expect(t.status).toBe(201);
    const byId = (id: string, locale: string | undefined, first: string): Requested => {
      const { template: _inline, ...rest } = request();
      return { ...rest, templateId: id, ...(locale && { locale }), variables: { first } };
    };
    const requests = [
      byId(en.body.id, 'de-CH', 'Heidi'),
      byId(en.body.id, 'en', 'Grace'),
      byId(de.body.id, 'fr', 'Amélie'),
      byId(other.body.id, 'de', 'Jonas'),
      byId(en.body.id, 'de-CH', 'Ursula'),
      request(),
    ];
    await publishAll(requests);
    const rows = await allFinal(requests);
    expect(new Set(rows.map((r) => r.sendJobId)).size).toBe(1);
    const bodies = requests.map(
      (r) => /(Hello|Hallo|Other) \S+|Your statement/.exec(mailTo(r.recipient) ?? '')?.[0],
    );
    // de-CH finds the de variant; fr has none and falls back to en; "other" has only en.
    expect(bodies).toEqual([
      'Hallo Heidi',
      'Hello Grace',
      'Hello Am=C3=A9lie',
      'Other Jonas',
      'Hallo Ursula',
      'Your statement',
    ]);
  });

  it('sends the rest of a batch when one request in it names a customer that does not exist', async () => {
    const good = [request(), request(), request()];
    const orphan = { ...request(), customerId: randomUUID() };
    await publishAll([good[0]!, orphan, good[1]!, good[2]!]);
    const rows = await allFinal(good);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect(mailsTo(row.recipient)).toBe(1);
    }
    // The statement of the whole batch failed; each was tried alone and only the bad one refused.
    expect(await rowsOf([orphan])).toEqual([]);
  });

  it('sends a redelivered request whose ledger row was written but whose job never reached Redis, once', async () => {
    const r = request();
    // A process that died between the ledger commit and the enqueue left this row behind.
    await db.message.create({
      data: {
        idempotencyKey: r.idempotencyKey,
        workspaceId: r.workspaceId,
        customerId: r.customerId,
        channel: 'email',
        recipient: r.recipient,
        status: 'queued',
        sendJobId: randomUUID(),
      },
    });
    await publishAll([r]);
    const [row] = await allFinal([r]);
    expect(row).toMatchObject({ status: 'sent', attempts: 1 });
    // A second redelivery finds the row sent and enqueues nothing.
    await publisher.publish(Subjects.deliveryRequested, r, { msgId: `again:${r.idempotencyKey}` });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(mailsTo(r.recipient)).toBe(1);
  });

  it("holds a workspace's sends to the rate set in its provider settings, and validates it", async () => {
    const slow = await createTenant(db, 10);
    const settings = (rate: unknown) => ({
      provider: 'smtp',
      settings: {
        host: '127.0.0.1',
        port: smtpPort,
        from: 'Slow <slow@example.com>',
        rateLimitPerSecond: rate,
      },
      secrets: {},
    });
    for (const bad of [0, 1.5, 'fast', 100_001]) {
      const res = await api('PUT', '/v1/providers/email', slow.apiKey, settings(bad));
      expect(res.status).toBe(400);
      expect(res.body.issues[0].path).toBe('/settings/rateLimitPerSecond');
    }
    const put = await api('PUT', '/v1/providers/email', slow.apiKey, settings(2));
    expect(put.status).toBe(200);
    expect((await api('GET', '/v1/providers', slow.apiKey)).body[0].settings.rateLimitPerSecond).toBe(2);

    const requests = Array.from({ length: 6 }, () => request('', slow));
    const others = Array.from({ length: 6 }, () => request());
    await publishAll([...requests, ...others]);
    const rows = await allFinal(requests);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(requests.map(() => ['sent', 1]));
    const times = rows.map((r) => r.sentAt!.getTime()).sort((a, b) => a - b);
    // 6 sends at 2 per second need three one-second windows.
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(1000);
    // The other workspace keeps the default rate: its six go out in one window.
    const fast = (await allFinal(others)).map((r) => r.sentAt!.getTime()).sort((a, b) => a - b);
    expect(fast[fast.length - 1]! - fast[0]!).toBeLessThan(1000);
  });

  it('redelivers a request whose template look-up failed in Postgres instead of failing it for good', async () => {
    const template = await db.template.create({
      data: {
        workspaceId: tenant.workspaceId,
        name: `lookup-${randomUUID()}`,
        channel: 'email',
        locale: 'en',
        subject: 'Hello',
        body: 'Hello {{ name }}',
        sample: { name: 'Ada' },
      },
    });
    const { template: _inline, ...rest } = request();
    const named: Requested = { ...rest, templateId: template.id, variables: { name: 'Ada' } };
    // The look-up fails in Postgres (the ledger still works): the request's own problem it is not.
    await db.$executeRawUnsafe('ALTER TABLE templates RENAME TO templates_away');
    try {
      await publishAll([named]);
      await sleep(700);
      expect(await rowsOf([named])).toEqual([]);
    } finally {
      await db.$executeRawUnsafe('ALTER TABLE templates_away RENAME TO templates');
    }
    const [row] = await allFinal([named]);
    expect(row).toMatchObject({ status: 'sent', error: null });
    expect(mailsTo(named.recipient)).toBe(1);
  });
});
