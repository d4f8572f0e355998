/**
 * Messages whose send job Redis lost: after Redis comes back with a run id delivery has not dealt
 * with, a queued one is rebuilt from its request on the stream and sent, or ends `failed` (never
 * sent) when the stream no longer holds it, the sending ones `unknown` (maybe sent), each with its
 * status published; messages whose job is still in Redis are left alone.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { jetstream } from '@nats-io/jetstream';
import { streamName, Subjects } from '@cdp/contracts';
import type { PrismaClient } from '@cdp/db';
import { NATS_URL, REDIS_URL, waitFor } from '@cdp/testing';
import { bullPrefix, DELIVERY_QUEUES } from '../src/queues/delivery-queues';
import type { Tenant } from './fixtures';
import { MessagesRun } from './support/messages-run';

describe('send jobs lost from Redis', () => {
  const run = new MessagesRun('dqlost');
  let db: PrismaClient;
  let tenant: Tenant;
  let smtpPort: number;
  let nc: NatsConnection;
  let redis: Redis;
  let queue: Queue;
  const runIdKey = () => `${bullPrefix(run.prefix)}:redis-run-id`;

  beforeAll(async () => {
    ({ db, tenant, smtpPort } = await run.open(4));
    nc = await connect({ servers: NATS_URL });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue(DELIVERY_QUEUES.email, { connection: redis, prefix: bullPrefix(run.prefix) });
  });

  afterAll(() =>
    run.close(async () => {
      await run.stopApps();
      await queue?.close();
      await nc?.close();
      await redis?.quit();
    }),
  );

  const startApp = () =>
    run.startTrackedApp({ SMTP_PORT: String(smtpPort), DELIVERY_LOST_JOB_GRACE_MS: '300' });
  const stopApp = (app: NestFastifyApplication) => run.stopApp(app);

  /** A ledger row as the intake writes it, naming its send job (and the request's stream sequence). */
  const row = async (
    status: 'queued' | 'sending',
    sendJobId: string,
    request?: { idempotencyKey: string; seq: number; recipient?: string },
  ) => {
    const id = randomUUID();
    await db.message.create({
      data: {
        id,
        idempotencyKey: request?.idempotencyKey ?? `lost:${id}`,
        ...(request && { requestSeq: request.seq }),
        workspaceId: tenant.workspaceId,
        customerId: tenant.customerIds[0]!,
        channel: 'email',
        recipient: request?.recipient ?? `${id}@example.com`,
        status,
        sendJobId,
      },
    });
    return id;
  };
  const statusOf = async (id: string) => (await db.message.findUniqueOrThrow({ where: { id } })).status;
  const statusEvents = () => run.statusEvents(nc, tenant.workspaceId);
  const redisRunId = async () => /^run_id:(\w+)/m.exec(await redis.info('server'))?.[1];

  it('settles the rows of lost jobs once Redis shows a run id it has not dealt with, and records it', async () => {
    // A job still in Redis (delayed: no worker takes it during the test) and two that are gone.
    const keptJob = `kept-${randomUUID()}`;
    await queue.add('send', { messages: [] }, { jobId: keptJob, delay: 3_600_000 });
    const kept = await row('queued', keptJob);
    const neverSent = await row('queued', `gone-${randomUUID()}`);
    const maybeSent = await row('sending', `gone-${randomUUID()}`);
    expect(await redis.get(runIdKey())).toBeNull();

    const app = await startApp();
    try {
      await waitFor('the lost rows settled', async () =>
        (await statusOf(neverSent)) === 'failed' && (await statusOf(maybeSent)) === 'unknown'
          ? true
          : undefined,
      );
      const failed = await db.message.findUniqueOrThrow({ where: { id: neverSent } });
      expect(failed.error).toBe(
        'its send job was lost from Redis before it ran and could not be rebuilt from its request (no longer on the stream, or no longer renderable); not sent',
      );
      expect((await db.message.findUniqueOrThrow({ where: { id: maybeSent } })).error).toMatch(
        /after the send started; not resent/,
      );
      expect(await statusOf(kept)).toBe('queued');
      await waitFor('the run id recorded', async () =>
        (await redis.get(runIdKey())) === (await redisRunId()) ? true : undefined,
      );
      const events = await statusEvents();
      expect(events.get(neverSent)).toBe('failed');
      expect(events.get(maybeSent)).toBe('unknown');
      expect(events.has(kept)).toBe(false);
    } finally {
      await stopApp(app);
    }
  });

  it('leaves the ledger alone while Redis keeps its run id, and sweeps again once the record is gone', async () => {
    const lost = await row('queued', `gone-${randomUUID()}`);
    const app = await startApp();
    try {
      // Several grace periods pass: the recorded run id is Redis's own, so nothing was lost since.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await statusOf(lost)).toBe('queued');
    } finally {
      await stopApp(app);
    }

    // A Redis that lost its data has lost the record too.
    await redis.del(runIdKey());
    const next = await startApp();
    try {
      await waitFor('the lost row failed', async () =>
        (await statusOf(lost)) === 'failed' ? true : undefined,
      );
    } finally {
      await stopApp(next);
    }
  });

  it('rebuilds a queued message’s lost job from its request on the stream, and sends it', async () => {
    await stopApp(await startApp()); // its durable consumer of the requests exists from now on
    const publisher = await run.connectPublisher();
    const idempotencyKey = `rebuild:${randomUUID()}`;
    const { seq } = await publisher.publish(
      Subjects.deliveryRequested,
      {
        workspaceId: tenant.workspaceId,
        idempotencyKey,
        customerId: tenant.customerIds[1]!,
        channel: 'email',
        recipient: 'rebuilt@example.com',
        template: { subject: 'Rebuilt for {{ name }}', body: 'Your statement is ready.' },
        variables: { name: 'Ada' },
        requestedAt: new Date().toISOString(),
      },
      { msgId: idempotencyKey },
    );
    // The intake took it before Redis lost the job: the request is acked, its row names a job that is gone.
    const js = jetstream(nc);
    const durable = await js.consumers.get(
      streamName(run.prefix, 'DELIVERY'),
      'delivery__cdp_delivery_requested',
    );
    const taken = await durable.next({ expires: 2000 });
    expect(taken?.seq).toBe(seq);
    await taken!.ackAck();
    const rebuilt = await row('queued', `gone-${randomUUID()}`, {
      idempotencyKey,
      seq,
      recipient: 'rebuilt@example.com',
    });
    // A request the stream no longer holds (aged out): that message cannot be rebuilt.
    const agedOut = await row('queued', `gone-${randomUUID()}`, {
      idempotencyKey: `aged:${randomUUID()}`,
      seq: seq + 1_000_000,
    });
    await redis.del(runIdKey());

    const app = await startApp();
    try {
      await waitFor('the rebuilt message sent', async () =>
        (await statusOf(rebuilt)) === 'sent' ? true : undefined,
      );
      const mail = await waitFor('the email', async () =>
        run.sink.received.find((m) => m.to.includes('rebuilt@example.com')),
      );
      expect(mail.raw).toContain('Subject: Rebuilt for Ada');
      expect(run.sink.received.filter((m) => m.to.includes('rebuilt@example.com'))).toHaveLength(1);
      await waitFor('the aged-out one failed', async () =>
        (await statusOf(agedOut)) === 'failed' ? true : undefined,
      );
      const events = await statusEvents();
      expect(events.get(rebuilt)).toBe('sent');
      expect(events.get(agedOut)).toBe('failed');
    } finally {
      await stopApp(app);
    }
  });
});
