// POST /v1/replay on the whole collection app (real Postgres, Redis/BullMQ and NATS): a stored
// time range is re-published to cdp.event.ingested page by page with msgIds
// replay:<replayId>:<eventId>, exactly those events, and GET /v1/replay/:id follows the job.
import { getQueueToken } from '@nestjs/bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { createService, loadConfig } from '@cdp/service-kit';
import { AppModule } from '../src/app.module';
import { CollectionConfigSchema } from '../src/config';
import { EventStore } from '../src/history/event-store';
import { REPLAY_QUEUE } from '../src/replay/replay.types';
import { bootstrapWorkspace, type BootstrapResult } from '../src/workspaces/bootstrap-workspace';
import { IngestSuite, NATS_URL, REDIS_URL, accepted } from './ingest-fixtures';
import { TEST_SECRETS, waitFor, TcpProxy } from '@cdp/testing';

const BASE = Date.parse('2026-03-01T00:00:00.000Z');
const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();
const NAMES = ['Page Viewed', 'Product Viewed', 'Loan Applied'];

describe('POST /v1/replay', () => {
  const suite = new IngestSuite('ingest_replay');
  let app: NestFastifyApplication;
  let other: BootstrapResult;
  const redisUrl = new URL(REDIS_URL);
  const redis = new TcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));

  beforeAll(async () => {
    await suite.open();
    other = await bootstrapWorkspace(suite.db, 'other-workspace');
    await redis.start();
    redisUrl.port = String(redis.port);
    const config = loadConfig(CollectionConfigSchema, {
      ...TEST_SECRETS,
      DATABASE_URL: suite.database.url,
      DATABASE_POOL_SIZE: '3',
      NATS_URL,
      NATS_PREFIX: suite.prefix,
      REDIS_URL: redisUrl.toString(),
      LOG_LEVEL: 'error',
    });
    app = await createService(
      { service: 'collection', configSchema: CollectionConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();

    // 1200 events, three per second (ties on received_at exercise the (received_at, id) keyset).
    const ingest = await suite.replica();
    const calls = Array.from({ length: 1200 }, (_, i) =>
      accepted(suite.workspace, `replay-${i}`, { event: NAMES[i % 3]!, receivedAt: at(Math.floor(i / 3)) }),
    );
    for (let i = 0; i < calls.length; i += 400) await ingest.storeBatch(calls.slice(i, i + 400));
    // Not replayed: another workspace's event in the range, and a delivery receipt (never announced).
    await ingest.storeBatch([accepted(other, 'other-ws', { receivedAt: at(150) })]);
    await new EventStore().append(suite.db, {
      workspaceId: suite.workspace.workspaceId,
      messageId: 'delivery:m1:sent',
      type: 'system',
      name: 'Message Sent',
      channel: 'email',
      occurredAt: new Date(at(150)),
      receivedAt: new Date(at(150)),
    });
  });

  afterAll(async () => {
    if (app) {
      await app.get<Queue>(getQueueToken(REPLAY_QUEUE)).obliterate({ force: true });
      await app.close();
    }
    await redis.stop();
    await suite.close(); // also deletes what the idle worker keeps under the prefix
  });

  const request = (method: 'GET' | 'POST', url: string, body?: unknown, apiKey = suite.workspace.apiKey) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    });

  async function replayed(replayId: string) {
    const messages = await suite.ingestedMessages();
    return messages.filter((m) => m.msgId.startsWith(`replay:${replayId}:`));
  }

  async function finished(replayId: string) {
    return waitFor(`replay ${replayId} to finish`, async () => {
      const res = await request('GET', `/v1/replay/${replayId}`);
      const status = res.json();
      return status.done ? status : undefined;
    });
  }

  it('re-publishes exactly the stored events of the range, across pages, with replay msgIds', async () => {
    const from = at(100);
    const to = at(350);
    const res = await request('POST', '/v1/replay', { from, to });
    expect(res.statusCode).toBe(202);
    const { id } = res.json();
    expect(res.json()).toMatchObject({ id: expect.any(String), done: false, published: 0, from, to });

    const expected = await suite.db.event.findMany({
      where: {
        workspaceId: suite.workspace.workspaceId,
        messageId: { startsWith: 'replay-' },
        receivedAt: { gte: new Date(from), lt: new Date(to) },
      },
      select: { id: true },
    });
    expect(expected).toHaveLength(750);
    const status = await finished(id);
    expect(status).toMatchObject({ id, state: 'completed', done: true, published: 750 });

    const messages = await replayed(id);
    expect(messages).toHaveLength(750);
    expect(new Set(messages.map((m) => m.event.eventId))).toEqual(
      new Set(expected.map((e) => e.id.toString())),
    );
    for (const m of messages) {
      expect(m.msgId).toBe(`replay:${id}:${m.event.eventId}`);
      expect(m.replayId).toBe(id);
    }
    // In received_at order, and the announcement is the same as the original one.
    const original = (await suite.ingestedMessages()).find(
      (m) => m.msgId.startsWith('event:') && m.event.messageId === 'replay-300',
    );
    expect(messages[0]!.event).toEqual(original!.event);
  });

  it('re-publishes every live customer’s profile to cdp.profile.updated, across pages', async () => {
    const ws = suite.workspace.workspaceId;
    const [merged, erased, survivor] = await suite.db.customer.findMany({
      where: { workspaceId: ws },
      orderBy: { id: 'asc' },
      take: 3,
    });
    await suite.db.customer.update({ where: { id: merged!.id }, data: { mergedIntoId: survivor!.id } });
    await suite.db.customer.update({ where: { id: erased!.id }, data: { erasedAt: new Date() } });
    await suite.db.customer.update({ where: { id: survivor!.id }, data: { traits: { plan: 'gold' } } });
    const live = await suite.db.customer.count({
      where: { workspaceId: ws, mergedIntoId: null, erasedAt: null },
    });
    expect(live).toBe(1198);

    expect((await request('POST', '/v1/replay/profiles', { from: at(0) })).json().issues).toEqual([
      { path: '/from', reason: expect.any(String) },
    ]);
    const res = await request('POST', '/v1/replay/profiles', {});
    expect(res.statusCode).toBe(202);
    const { id } = res.json();
    expect(res.json()).toMatchObject({ kind: 'profiles', done: false, published: 0 });
    expect(await finished(id)).toMatchObject({ id, kind: 'profiles', state: 'completed', published: live });

    const profiles = (await suite.profileUpdates()).filter((u) => u.msgId.startsWith(`replay:${id}:`));
    expect(profiles).toHaveLength(live);
    expect(new Set(profiles.map((p) => p.customerId)).size).toBe(live);
    expect(profiles.map((p) => p.customerId)).not.toContain(merged!.id);
    expect(profiles.map((p) => p.customerId)).not.toContain(erased!.id);
    expect(profiles.find((p) => p.customerId === survivor!.id)).toMatchObject({
      msgId: `replay:${id}:profile:${survivor!.id}`,
      workspaceId: ws,
      changedTraits: [],
      traits: { plan: 'gold' },
      lifecycleStage: 'potential',
    });
    expect(profiles.every((p) => p.workspaceId === ws)).toBe(true);
  });

  it('filters by event name', async () => {
    const res = await request('POST', '/v1/replay', {
      from: at(0),
      to: at(30),
      eventNames: ['Loan Applied'],
    });
    expect(res.statusCode).toBe(202);
    const { id } = res.json();
    expect((await finished(id)).published).toBe(30);
    const messages = await replayed(id);
    expect(messages).toHaveLength(30);
    expect(new Set(messages.map((m) => m.event.name))).toEqual(new Set(['Loan Applied']));
  });

  it('answers 400 with the field and reason for a bad body, 401 without a key, 404 for an unknown or foreign replay', async () => {
    const bad = await request('POST', '/v1/replay', { from: 'yesterday', to: at(10) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues).toEqual([expect.objectContaining({ path: '/from' })]);
    const reversed = await request('POST', '/v1/replay', { from: at(10), to: at(5) });
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().issues).toEqual([expect.objectContaining({ path: '/to' })]);
    const extra = await request('POST', '/v1/replay', { from: at(0), to: at(5), eventNames: [] });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().issues[0].path).toBe('/eventNames');

    const anonymous = await app.inject({
      method: 'POST',
      url: '/v1/replay',
      payload: { from: at(0), to: at(5) },
    });
    expect(anonymous.statusCode).toBe(401);

    expect((await request('GET', '/v1/replay/no-such-replay')).statusCode).toBe(404);
    const mine = (await request('POST', '/v1/replay', { from: at(0), to: at(1) })).json();
    expect((await request('GET', `/v1/replay/${mine.id}`, undefined, other.apiKey)).statusCode).toBe(404);
    await finished(mine.id);
  });

  it('answers 503 with Retry-After while Redis is unreachable, and accepts replays again when it is back', async () => {
    redis.cut();
    try {
      const during = await request('POST', '/v1/replay', { from: at(0), to: at(1) });
      expect(during.statusCode).toBe(503);
      expect(during.headers['retry-after']).toBe('5');
    } finally {
      redis.restore();
    }
    const after = await waitFor<{ id: string }>(
      'Redis to be reachable again',
      async () => {
        const res = await request('POST', '/v1/replay', { from: at(0), to: at(1) });
        return res.statusCode === 202 ? res.json<{ id: string }>() : undefined;
      },
      20_000,
      250,
    );
    expect((await finished(after.id)).published).toBe(3);
  });

  it('resumes a retried replay from the cursor saved in its progress', async () => {
    // A replay that published up to event replay-599 (received at second 199) and then died.
    const queue = app.get<Queue>(getQueueToken(REPLAY_QUEUE));
    const last = await suite.db.event.findFirstOrThrow({ where: { messageId: 'replay-599' } });
    const job = await queue.add(
      'replay',
      { workspaceId: suite.workspace.workspaceId, from: at(100), to: at(250) },
      { jobId: `resumed-${suite.prefix}`, delay: 60_000 },
    );
    await job.updateProgress({
      published: 300,
      cursor: { receivedAt: last.receivedAt.toISOString(), id: last.id.toString() },
      done: false,
    });
    await job.promote();

    expect(await finished(job.id!)).toMatchObject({ published: 450, done: true });
    const messages = await replayed(job.id!);
    const names = messages
      .map((m) => m.event.messageId)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    expect(names).toEqual(Array.from({ length: 150 }, (_, i) => `replay-${600 + i}`));
  });
});
