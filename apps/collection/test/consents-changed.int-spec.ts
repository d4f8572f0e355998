import { cleanUpRun } from '@cdp/testing';
import { TEST_SECRETS } from '@cdp/testing';
// cdp.consent.changed through the in-process collection app on the real local Postgres and NATS
// JetStream (own database, own subject prefix): the consent row, the history event, idempotent
// redelivery, stale changes, and GET /v1/customers/:customerId/consents.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { streamName, Subjects, type PayloadOf } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { durableName, JetStreamPublisher } from '@cdp/messaging';
import { createService, hashKey, loadConfig } from '@cdp/service-kit';
import { AppModule } from '../src/app.module';
import { CollectionConfigSchema } from '../src/config';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
type Change = PayloadOf<typeof Subjects.consentChanged>;

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 8000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('consents (cdp.consent.changed → consents + history)', () => {
  const prefix = `t_consents_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const apiKey = `cdp_test_${randomBytes(16).toString('hex')}`;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestFastifyApplication;
  let publisher: JetStreamPublisher;
  let workspaceId: string;
  let customerId: string;
  let seq = 0;

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_test_${prefix}`);
    db = createPrismaClient(database.url, { max: 2 });
    const config = loadConfig(CollectionConfigSchema, {
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...TEST_SECRETS,
    });
    app = await createService(
      { service: 'collection', configSchema: CollectionConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.startAllMicroservices();
    await app.getHttpAdapter().getInstance().ready();
    publisher = app.get(JetStreamPublisher);

    workspaceId = (await db.workspace.create({ data: { slug: prefix, name: 'Consent bank' } })).id;
    customerId = (await db.customer.create({ data: { workspaceId, customerCode: 'C0000000000000002' } })).id;
    await db.apiKey.create({
      data: {
        workspaceId,
        name: 'test',
        keyHash: hashKey(apiKey),
        prefix: apiKey.slice(0, 12),
        scopes: ['admin'],
      },
    });
  });

  afterAll(async () => {
    await app?.close();
    const nc = await connect({ servers: NATS_URL });
    await nc.close();
    await db?.$disconnect();
    await database?.drop();
    await cleanUpRun(prefix);
  });

  const change = (over: Partial<Change> = {}): Change => ({
    workspaceId,
    customerId,
    purpose: 'marketing',
    channel: 'email',
    status: 'withdrawn',
    source: 'one-click-unsubscribe',
    at: '2026-11-24T10:00:00.000Z',
    evidence: { messageId: 'msg-1' },
    ...over,
  });
  /** A distinct Nats-Msg-Id each time, so JetStream delivers repeats as a redelivery would. */
  const publish = (c: Change) => publisher.publish(Subjects.consentChanged, c, { msgId: `test-${++seq}` });
  const consent = (channel: 'email' | 'sms' = 'email') =>
    db.consent.findUnique({
      where: {
        workspaceId_customerId_purpose_channel: { workspaceId, customerId, purpose: 'marketing', channel },
      },
    });
  const history = () =>
    db.event.findMany({
      where: { workspaceId, customerId, name: { startsWith: 'Consent' } },
      orderBy: { id: 'asc' },
    });
  const get = (id: string, key: string | null = apiKey) =>
    app.inject({
      method: 'GET',
      url: `/v1/customers/${id}/consents`,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });

  /** Every published consent change was handled and acked by collection's durable consumer. */
  const drained = async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      await waitFor('the consumer to ack everything', async () => {
        const info = await jsm.consumers.info(
          streamName(prefix, 'DELIVERY'),
          durableName('collection', Subjects.consentChanged.name),
        );
        return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= seq;
      });
    } finally {
      await nc.close();
    }
  };

  it('stores a withdrawal and writes it into the customer history once, whatever the redeliveries', async () => {
    await publish(change());
    const row = await waitFor('withdrawn consent', consent);
    expect(row).toMatchObject({
      status: 'withdrawn',
      source: 'one-click-unsubscribe',
      grantedAt: null,
      evidence: { messageId: 'msg-1' },
    });
    expect(row.withdrawnAt?.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(row.updatedAt.toISOString()).toBe('2026-11-24T10:00:00.000Z');

    await publish(change());
    await publish(change({ channel: 'sms', at: '2026-11-24T10:00:01.000Z' }));
    await drained();
    expect(await consent('sms')).toMatchObject({ status: 'withdrawn' });
    expect(await consent()).toEqual(row);
    const events = await history();
    expect(events.filter((e) => e.channel === 'email')).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'system',
      name: 'Consent Withdrawn',
      channel: 'email',
      messageId: `consent:${customerId}:marketing:email:withdrawn:2026-11-24T10:00:00.000Z`,
      properties: {
        purpose: 'marketing',
        consentChannel: 'email',
        status: 'withdrawn',
        source: 'one-click-unsubscribe',
      },
    });
    expect(events[0]!.occurredAt.toISOString()).toBe('2026-11-24T10:00:00.000Z');
  });

  it('ignores a change older than the stored one, applies a newer grant and keeps withdrawnAt', async () => {
    await publish(change({ status: 'granted', source: 'branch', at: '2026-11-20T09:00:00.000Z' }));
    await publish(
      change({ status: 'granted', source: 'web:preferences', at: '2026-11-25T08:00:00.000Z', evidence: {} }),
    );
    await drained();
    const row = (await consent())!;
    expect(row.status).toBe('granted');
    expect(row.source).toBe('web:preferences');
    expect(row.grantedAt?.toISOString()).toBe('2026-11-25T08:00:00.000Z');
    expect(row.withdrawnAt?.toISOString()).toBe('2026-11-24T10:00:00.000Z');
    // The stale "branch" grant (published first) left no trace.
    const events = await history();
    expect(events.map((e) => e.properties)).not.toContainEqual(expect.objectContaining({ source: 'branch' }));
    expect(events.filter((e) => e.name === 'Consent Granted')).toHaveLength(1);
  });

  it('serves GET /v1/customers/:customerId/consents to the workspace API key', async () => {
    const res = await get(customerId);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      expect.objectContaining({ purpose: 'marketing', channel: 'email', status: 'granted' }),
      expect.objectContaining({ purpose: 'marketing', channel: 'sms', status: 'withdrawn' }),
    ]);
    expect((await get(customerId, null)).statusCode).toBe(401);
    expect((await get('no-such-customer')).statusCode).toBe(404);
  });
});
