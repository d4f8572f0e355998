// Dedup key retention on the real local Postgres and Redis (own database, own queue prefix): the
// worker tier schedules the hourly prune, and a prune deletes exactly the keys older than
// DEDUP_RETENTION_HOURS, in chunks, keeping the rest.
import { Queue } from 'bullmq';
import { queueOptions, SERVICE_CONFIG, type BaseConfig } from '@cdp/service-kit';
import { DedupRetentionService, MAINTENANCE_QUEUE } from '../src/history/dedup-retention.service';
import { startCollection, type TrackingHarness } from './tracking-harness';

const HOUR = 3_600_000;

describe('dedup key retention (event_message_ids)', () => {
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
      expect(schedulers).toEqual([expect.objectContaining({ key: 'prune-dedup-keys', every: HOUR })]);
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

    const retention = harness.app.get(DedupRetentionService);
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
});
