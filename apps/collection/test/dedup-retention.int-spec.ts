// Dedup key retention on the real local Postgres and Redis (own database, own queue prefix): the
// worker tier schedules the hourly prune, and a prune deletes exactly the keys older than
// DEDUP_RETENTION_HOURS, in chunks, keeping the rest.
import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { createService, loadConfig, queueOptions } from '@cdp/service-kit';
import { cleanUpRun, TEST_SECRETS } from '@cdp/testing';
import { AppModule } from '../src/app.module';
import { CollectionConfigSchema } from '../src/config';
import { DedupRetentionService, MAINTENANCE_QUEUE } from '../src/history/dedup-retention.service';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const HOUR = 3_600_000;

describe('dedup key retention (event_message_ids)', () => {
  const prefix = `t_dedupret_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestFastifyApplication;
  let config: ReturnType<typeof loadConfig<typeof CollectionConfigSchema>>;
  let workspaceId: string;

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_test_${prefix}`);
    db = createPrismaClient(database.url, { max: 2 });
    config = loadConfig(CollectionConfigSchema, {
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      DEDUP_RETENTION_HOURS: '30',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...TEST_SECRETS,
    });
    app = await createService(
      { service: 'collection', configSchema: CollectionConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    workspaceId = (await db.workspace.create({ data: { slug: prefix, name: 'Retention bank' } })).id;
  });

  afterAll(async () => {
    await app?.close();
    await db?.$disconnect();
    await database?.drop();
    await cleanUpRun(prefix);
  });

  it('is scheduled every hour by the worker tier', async () => {
    const queue = new Queue(MAINTENANCE_QUEUE, queueOptions(config));
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toEqual([expect.objectContaining({ key: 'prune-dedup-keys', every: HOUR })]);
    } finally {
      await queue.close();
    }
  });

  it('deletes the keys older than the retention, in chunks, and keeps the others', async () => {
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

    expect(await app.get(DedupRetentionService).prune(now)).toBe(25_000);

    const left = await db.$queryRaw<{ kind: string; n: number }[]>`
      SELECT split_part(message_id, '-', 1) AS kind, count(*)::int AS n FROM event_message_ids
      GROUP BY 1 ORDER BY 1`;
    expect(left).toEqual([
      { kind: 'new', n: 100 },
      { kind: 'recent', n: 100 },
    ]);
    expect(await app.get(DedupRetentionService).prune(now)).toBe(0);
  });
});
