/**
 * Status events of the send path, in one process on the real Postgres, Redis and NATS with a real
 * SMTP sink: a status the send job could not publish is not lost, and the message is not sent again.
 */
import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { streamName, subjectFor, Subjects, type PayloadOf } from '@cdp/contracts';
import type { PrismaClient } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { NATS_URL, waitFor } from '@cdp/testing';
import { bullPrefix, DELIVERY_QUEUES } from '../src/queues/delivery-queues';
import type { Tenant } from './fixtures';
import { MessagesRun } from './support/messages-run';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

describe('delivery status events', () => {
  const run = new MessagesRun('dqstatus');
  let db: PrismaClient;
  let tenant: Tenant;
  let smtpPort: number;
  let publisher: JetStreamPublisher;
  let nc: NatsConnection;
  let redis: Redis;
  const startApp = () => run.startTrackedApp(env());
  const stopApp = (app: NestFastifyApplication) => run.stopApp(app);

  beforeAll(async () => {
    ({ db, tenant, smtpPort } = await run.open(5));
    publisher = await run.connectPublisher();
    nc = await connect({ servers: NATS_URL });
    redis = new Redis();
  });

  afterAll(() =>
    run.close(async () => {
      await run.stopApps();
      await nc?.close();
      await redis?.quit();
    }),
  );

  const env = () => ({
    SMTP_PORT: String(smtpPort),
    SMTP_POOL_SIZE: '2',
    // Attempts to spare, and a backoff slow enough to look between them.
    DELIVERY_MAX_ATTEMPTS: '20',
    DELIVERY_BACKOFF_MS: '300',
    DELIVERY_RATE_LIMIT_PER_SECOND: '1000',
  });
  const request = (i: number): Requested => ({
    workspaceId: tenant.workspaceId,
    idempotencyKey: `status:${randomUUID()}`,
    customerId: tenant.customerIds[i % tenant.customerIds.length]!,
    channel: 'email',
    recipient: `${randomUUID()}@example.com`,
    template: { subject: 'Statement', body: 'Your statement is ready.' },
    variables: {},
    requestedAt: new Date().toISOString(),
  });
  /** The last status event of the tenant's messages, if any (one workspace, one subject). */
  const lastStatus = async () => {
    const jsm = await jetstreamManager(nc);
    const subject = subjectFor(run.prefix, Subjects.deliveryStatus.name, tenant.workspaceId);
    const stored = await jsm.streams
      .getMessage(streamName(run.prefix, 'DELIVERY'), { last_by_subj: subject })
      .catch(() => null);
    return stored ? stored.json<{ messageId: string; status: string }>() : undefined;
  };

  it('retries a job whose status event could not be published and publishes it on the next run, sending once', async () => {
    const first = await startApp();
    // The send path cannot reach JetStream; the request consumer (its own connection) still can.
    await first.get(JetStreamPublisher).close();
    const r = request(0);
    await publisher.publish(Subjects.deliveryRequested, r, { msgId: `req:${r.idempotencyKey}` });
    const row = await waitFor('the message sent', async () => {
      const m = await db.message.findUnique({ where: { idempotencyKey: r.idempotencyKey } });
      return m?.status === 'sent' ? m : undefined;
    });
    const queue = new Queue(DELIVERY_QUEUES.email, { connection: redis, prefix: bullPrefix(run.prefix) });
    try {
      const failed = await waitFor('the send job failed for the status event', async () => {
        const job = await queue.getJob(row.sendJobId!);
        return job && job.attemptsMade >= 1 ? job : undefined;
      });
      expect(failed.failedReason).toMatch(/closed/);
      await stopApp(first);
      expect(await lastStatus()).toBeUndefined();

      const second = await startApp();
      const event = await waitFor('the status event', lastStatus, 15_000);
      expect(event).toMatchObject({ messageId: row.id, status: 'sent' });
      await waitFor('the send job completed', async () => (await queue.getJob(row.sendJobId!))?.finishedOn);
      await stopApp(second);
    } finally {
      await queue.close();
    }
    expect(run.sink.received.filter((m) => m.to.includes(r.recipient))).toHaveLength(1);
    expect(await db.message.findUnique({ where: { id: row.id } })).toMatchObject({
      status: 'sent',
      attempts: 1,
    });
  });
});
