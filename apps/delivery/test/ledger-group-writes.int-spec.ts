// The grouped ledger writes (one claim statement for the jobs running at once) on a real database:
// each row goes to at most one claim, even when two attempts of one job claim it in the same group.
import { randomUUID } from 'node:crypto';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { DatabaseService, type BaseConfig } from '@cdp/service-kit';
import { LedgerGroupWrites } from '../src/messages/ledger-group-writes';
import { createTenant, type Tenant } from './fixtures';

describe('LedgerGroupWrites', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let db: DatabaseService;
  let writes: LedgerGroupWrites;
  let tenant: Tenant;

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_test_ledger_group_${randomUUID().slice(0, 8)}`);
    prisma = createPrismaClient(database.url);
    tenant = await createTenant(prisma, 1);
    db = new DatabaseService({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: 4 } as BaseConfig);
    writes = new LedgerGroupWrites(db);
  });
  afterAll(async () => {
    await db?.onApplicationShutdown();
    await prisma?.$disconnect();
    await database?.drop();
  });

  const queuedRows = async (jobId: string | null, n: number) => {
    const ids = Array.from({ length: n }, () => randomUUID());
    await prisma.message.createMany({
      data: ids.map((id) => ({
        id,
        idempotencyKey: `group-${id}`,
        workspaceId: tenant.workspaceId,
        customerId: tenant.customerIds[0]!,
        channel: 'sms' as const,
        recipient: '+41790000000',
        sendJobId: jobId,
      })),
    });
    return ids;
  };

  it('claims for several jobs in one statement, each its own rows and only queued ones', async () => {
    const a = await queuedRows('job-a', 3);
    const b = await queuedRows('job-b', 2);
    await prisma.message.update({ where: { id: b[1]! }, data: { status: 'sent' } });
    const [claimedA, claimedB, foreign] = await Promise.all([
      writes.claim('job-a', a, 'twilio'),
      writes.claim('job-b', b, 'twilio'),
      // A job naming rows of another job claims none of them.
      writes.claim('job-c', a, 'twilio'),
    ]);
    expect([...claimedA].sort()).toEqual([...a].sort());
    expect([...claimedB]).toEqual([b[0]]);
    expect(foreign.size).toBe(0);
    const rows = await prisma.message.findMany({ where: { id: { in: [...a, ...b] } } });
    expect(rows.filter((r) => r.status === 'sending')).toHaveLength(4);
    expect(rows.every((r) => r.status !== 'sending' || (r.attempts === 1 && r.provider === 'twilio'))).toBe(
      true,
    );
  });

  it('gives a row to one claim only when two attempts of one job (or rows naming no job) meet in a group', async () => {
    const mine = await queuedRows('job-d', 4);
    const legacy = await queuedRows(null, 2);
    const [first, second, third, fourth] = await Promise.all([
      writes.claim('job-d', mine, 'twilio'),
      writes.claim('job-d', mine, 'twilio'),
      writes.claim('job-e', legacy, 'twilio'),
      writes.claim('job-f', legacy, 'twilio'),
    ]);
    expect(first.size + second.size).toBe(4);
    expect([...first].filter((id) => second.has(id))).toEqual([]);
    expect(third.size + fourth.size).toBe(2);
    expect([...third].filter((id) => fourth.has(id))).toEqual([]);
  });

  it('marks sent rows of several jobs together, hands each its own rows back, and indexes provider ids only where asked', async () => {
    const a = await queuedRows('job-g', 2);
    const b = await queuedRows('job-h', 1);
    await writes.claim('job-g', a, 'twilio');
    await writes.claim('job-h', b, 'twilio');
    const [rowsA, rowsB] = await Promise.all([
      writes.markSent(a.map((id) => ({ id, providerMessageId: `SM-${id}`, lookUp: true }))),
      writes.markSent(b.map((id) => ({ id, providerMessageId: `SM-${id}`, lookUp: false }))),
    ]);
    expect(rowsA.map((r) => r.id).sort()).toEqual([...a].sort());
    expect(rowsB.map((r) => [r.id, r.status, r.providerMessageId])).toEqual([[b[0], 'sent', `SM-${b[0]}`]]);
    // Receipts that name only the provider's id find the rows through message_provider_ids; the
    // messages whose receipts name our id (b) need no such row.
    const providerIds = await prisma.messageProviderId.findMany({
      where: { messageId: { in: [...a, ...b] } },
    });
    expect(
      providerIds.map((p) => [p.provider, p.providerMessageId, p.messageId, p.workspaceId]).sort(),
    ).toEqual(a.map((id) => ['twilio', `SM-${id}`, id, tenant.workspaceId]).sort());
  });

  it('keeps the ledger writes of a send off its indexes, so they can be HOT updates', async () => {
    // Every column a claim or a `sent` mark sets; an index naming one would make both write an
    // entry into every index of the table.
    const setBySend = [
      'status',
      'provider',
      'provider_message_id',
      'sent_at',
      'attempts',
      'error',
      'updated_at',
    ];
    const indexed = await prisma.$queryRaw<{ column: string }[]>`
      SELECT DISTINCT a.attname::text AS column
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = 'messages'::regclass`;
    expect(indexed.map((r) => r.column).filter((c) => setBySend.includes(c))).toEqual([]);
    // And room in each page for the rows' next versions.
    const [table] = await prisma.$queryRaw<{ options: string[] | null }[]>`
      SELECT reloptions::text[] AS options FROM pg_class WHERE oid = 'messages'::regclass`;
    expect(table!.options).toContain('fillfactor=50');
  });
});
