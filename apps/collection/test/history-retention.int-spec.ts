// History retention on the real local Postgres and Redis (own database, own queue prefix): the
// worker tier schedules the hourly jobs; a prune deletes exactly the dedup keys older than
// DEDUP_RETENTION_HOURS, and an expiry each workspace's events older than its
// event_retention_days, in chunks, keeping the rest.
import { Queue } from 'bullmq';
import { queueOptions, SERVICE_CONFIG, type BaseConfig } from '@cdp/service-kit';
import {
  EXPIRE_EVENTS,
  HistoryRetentionService,
  MAINTENANCE_QUEUE,
  PRUNE_DEDUP_KEYS,
} from '../src/history/history-retention.service';
import { startCollection, type TrackingHarness } from './tracking-harness';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('history retention (dedup keys and events)', () => {
  let harness: TrackingHarness;

  beforeAll(async () => {
    harness = await startCollection('dedupret', { DEDUP_RETENTION_HOURS: '30' });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('is scheduled every hour by the worker tier', async () => {
    const queue = new Queue(MAINTENANCE_QUEUE, queueOptions(harness.app.get<BaseConfig>(SERVICE_CONFIG)));
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.every]).sort()).toEqual(
        [
          [EXPIRE_EVENTS, HOUR],
          [PRUNE_DEDUP_KEYS, HOUR],
        ].sort(),
      );
    } finally {
      await queue.close();
    }
  });

  it('deletes the keys older than the retention, in chunks, and keeps the others', async () => {
    const { db, keys } = harness;
    const workspaceId = keys.workspaceId;
    const now = new Date('2026-12-01T12:00:00Z');
    // 25,000 keys 31 h old (more than two chunks), 100 of 29 h, 100 of now.
    await db.$executeRaw`
      INSERT INTO event_message_ids (workspace_id, message_id, event_id, received_at)
      SELECT ${workspaceId}, 'old-' || n, n, ${new Date(now.getTime() - 31 * HOUR)}::timestamptz
      FROM generate_series(1, 25000) AS n`;
    await db.$executeRaw`
      INSERT INTO event_message_ids (workspace_id, message_id, event_id, received_at)
      SELECT ${workspaceId}, 'recent-' || n, n, ${new Date(now.getTime() - 29 * HOUR)}::timestamptz
      FROM generate_series(1, 100) AS n`;
    await db.$executeRaw`
      INSERT INTO event_message_ids (workspace_id, message_id, event_id, received_at)
      SELECT ${workspaceId}, 'new-' || n, n, ${now}::timestamptz FROM generate_series(1, 100) AS n`;

    const retention = harness.app.get(HistoryRetentionService);
    expect(await retention.prune(now)).toBe(25_000);

    const left = await db.$queryRaw<{ kind: string; n: number }[]>`
      SELECT split_part(message_id, '-', 1) AS kind, count(*)::int AS n FROM event_message_ids
      GROUP BY 1 ORDER BY 1`;
    expect(left).toEqual([
      { kind: 'new', n: 100 },
      { kind: 'recent', n: 100 },
    ]);
    expect(await retention.prune(now)).toBe(0);
  });

  it("deletes each workspace's events older than its event_retention_days, and keeps the others", async () => {
    const { db, keys } = harness;
    const now = new Date('2026-12-01T12:00:00Z');
    const short = await db.workspace.create({
      data: { slug: 'retention-short', name: 'Short retention', eventRetentionDays: 30 },
    });
    const forever = await db.workspace.create({
      data: { slug: 'retention-forever', name: 'Kept forever', eventRetentionDays: 0 },
    });
    const insert = (workspaceId: string, label: string, daysAgo: number, count: number) =>
      db.$executeRaw`
        INSERT INTO events (workspace_id, message_id, type, channel, occurred_at, received_at)
        SELECT ${workspaceId}, ${label} || '-' || n, 'track', 'web', r, r
        FROM generate_series(1, ${count}) AS n, (SELECT ${new Date(now.getTime() - daysAgo * DAY)}::timestamptz AS r) t`;
    // The bootstrapped workspace keeps the default 730 days.
    await insert(keys.workspaceId, 'defaultold', 731, 12_000); // more than one chunk
    await insert(keys.workspaceId, 'defaultkept', 729, 10);
    await insert(short.id, 'shortold', 31, 20);
    await insert(short.id, 'shortkept', 29, 10);
    await insert(forever.id, 'forever', 5000, 10);

    const retention = harness.app.get(HistoryRetentionService);
    expect(await retention.expireEvents(now)).toBe(12_020);
    const left = await db.$queryRaw<{ kind: string; n: number }[]>`
      SELECT split_part(message_id, '-', 1) AS kind, count(*)::int AS n FROM events GROUP BY 1 ORDER BY 1`;
    expect(left).toEqual([
      { kind: 'defaultkept', n: 10 },
      { kind: 'forever', n: 10 },
      { kind: 'shortkept', n: 10 },
    ]);
    expect(await retention.expireEvents(now)).toBe(0);
  });

  it('GET/PUT /v1/retention reads and changes the policy the expiry applies, with clear errors', async () => {
    const { app, db, keys } = harness;
    const call = async (method: 'GET' | 'PUT', body?: unknown) => {
      const res = await app.inject({
        method,
        url: '/v1/retention',
        headers: { authorization: `Bearer ${keys.apiKey}`, 'content-type': 'application/json' },
        ...(body !== undefined && { payload: JSON.stringify(body) }),
      });
      return { status: res.statusCode, body: res.json() };
    };
    expect(await call('GET')).toEqual({
      status: 200,
      body: { eventRetentionDays: 730, inactiveCustomerRetentionDays: 0 },
    });
    for (const bad of [
      { eventRetentionDays: -1 },
      { eventRetentionDays: 1.5 },
      { eventRetentionDays: 40_000 },
      { inactiveCustomerRetentionDays: -5 },
      {},
    ])
      expect(await call('PUT', bad)).toMatchObject({
        status: 400,
        body: {
          issues: [
            expect.objectContaining({
              path: expect.stringMatching(/^\/(eventRetentionDays|inactiveCustomerRetentionDays)?$/),
            }),
          ],
        },
      });
    expect((await call('PUT', { eventRetentionDays: 7, extra: true })).status).toBe(400);

    expect(await call('PUT', { eventRetentionDays: 7 })).toEqual({
      status: 200,
      body: { eventRetentionDays: 7, inactiveCustomerRetentionDays: 0 },
    });
    // A field left out stays as it was.
    expect(await call('PUT', { inactiveCustomerRetentionDays: 1825 })).toEqual({
      status: 200,
      body: { eventRetentionDays: 7, inactiveCustomerRetentionDays: 1825 },
    });
    expect(await call('GET')).toEqual({
      status: 200,
      body: { eventRetentionDays: 7, inactiveCustomerRetentionDays: 1825 },
    });
    const now = new Date('2026-12-01T12:00:00Z');
    for (const [messageId, daysAgo] of [
      ['week-old', 8],
      ['fresh', 1],
    ] as const)
      await db.$executeRaw`
        INSERT INTO events (workspace_id, message_id, type, channel, occurred_at, received_at)
        VALUES (${keys.workspaceId}, ${messageId}, 'track', 'web', ${now}, ${new Date(now.getTime() - daysAgo * DAY)})`;
    await harness.app.get(HistoryRetentionService).expireEvents(now);
    const left = await db.event.findMany({
      where: { workspaceId: keys.workspaceId },
      select: { messageId: true },
    });
    expect(left).toEqual([{ messageId: 'fresh' }]);
    expect(await db.auditLog.count({ where: { action: 'retention.updated' } })).toBe(2);
  });
});
