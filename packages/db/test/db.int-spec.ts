// Integration test of the package against the local PostgreSQL: a fresh database migrated by the
// Prisma CLI (covers the offline workarounds in prisma.config.ts), then the generated client on the
// pg driver adapter.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import {
  createDatabase,
  createPrismaClient,
  createTestDatabase,
  databaseName,
  PACKAGE_DIR,
  Prisma,
  type PrismaClient,
  type TestDatabase,
} from '../src';

const run = promisify(execFile);

async function databaseExists(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName(url)]);
    return r.rowCount === 1;
  } finally {
    await c.end();
  }
}

describe('@cdp/db on PostgreSQL', () => {
  const name = `cdp_test_db_${randomBytes(5).toString('hex')}`;
  let db: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase(name);
    prisma = createPrismaClient(db.url, { max: 3 });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  it('creates the database and applies every migration', async () => {
    expect(db.url).toMatch(new RegExp(`/${name}$`));
    const dirs = readdirSync(path.join(PACKAGE_DIR, 'prisma', 'migrations'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const rows = await prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`;
    expect(rows.map((r) => r.migration_name)).toEqual(dirs);
  });

  it('has migrations in sync with prisma/schema.prisma', async () => {
    // `migrate diff --exit-code`: 0 = no difference, 2 = the schema has changes without a migration.
    const cli = path.join(PACKAGE_DIR, 'node_modules', 'prisma', 'build', 'index.js');
    const { stdout } = await run(
      process.execPath,
      [
        cli,
        'migrate',
        'diff',
        '--from-migrations',
        'prisma/migrations',
        '--to-schema-datamodel',
        'prisma/schema.prisma',
        '--script',
        '--exit-code',
      ],
      { cwd: PACKAGE_DIR, env: { ...process.env, DATABASE_URL: db.url, CHECKPOINT_DISABLE: '1' } },
    );
    expect(stdout).toContain('empty migration');
  });

  it('stores a workspace, a customer, an identity and a deduplicated event', async () => {
    const ws = await prisma.workspace.create({ data: { slug: `ws-${name}`, name: 'Test Bank' } });
    const customer = await prisma.customer.create({
      data: {
        workspaceId: ws.id,
        customerCode: 'C-000001',
        lifecycleStage: 'prospect',
        birthDate: new Date('1990-04-01'),
        customerValue: new Prisma.Decimal('1234.5'),
        preferences: { channel: 'email' },
      },
    });
    expect(customer.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(customer.traits).toEqual({});
    expect(customer.customerValue?.toString()).toBe('1234.5');

    await prisma.identity.create({
      data: { workspaceId: ws.id, customerId: customer.id, type: 'email', value: 'kim@example.com' },
    });

    const receivedAt = new Date();
    const event = await prisma.$transaction(async (tx) => {
      const e = await tx.event.create({
        data: {
          workspaceId: ws.id,
          customerId: customer.id,
          messageId: 'msg-1',
          type: 'track',
          name: 'Product Viewed',
          channel: 'app',
          journeyStage: 'explore_compare',
          properties: { productCode: 'DEP-01' },
          occurredAt: receivedAt,
          receivedAt,
        },
      });
      await tx.eventMessageId.create({
        data: { workspaceId: ws.id, messageId: e.messageId, eventId: e.id, receivedAt },
      });
      return e;
    });
    expect(typeof event.id).toBe('bigint');

    // The same messageId again is a duplicate: the dedup table rejects it.
    const dup = await prisma.eventMessageId.createMany({
      data: [{ workspaceId: ws.id, messageId: 'msg-1', eventId: 999n, receivedAt }],
      skipDuplicates: true,
    });
    expect(dup.count).toBe(0);

    const history = await prisma.event.findMany({
      where: {
        workspaceId: ws.id,
        customerId: customer.id,
        properties: { path: ['productCode'], equals: 'DEP-01' },
      },
      orderBy: { occurredAt: 'desc' },
    });
    expect(history.map((e) => e.id)).toEqual([event.id]);
    const seen = await prisma.eventMessageId.findUnique({
      where: { workspaceId_messageId: { workspaceId: ws.id, messageId: 'msg-1' } },
    });
    expect(seen?.eventId).toBe(event.id);
  });

  it('rejects a second identity with the same workspace, type and value', async () => {
    const ws = await prisma.workspace.create({ data: { slug: `ws2-${name}`, name: 'Other' } });
    const [a, b] = await Promise.all(
      ['C-A', 'C-B'].map((customerCode) =>
        prisma.customer.create({ data: { workspaceId: ws.id, customerCode } }),
      ),
    );
    await prisma.identity.create({
      data: { workspaceId: ws.id, customerId: a!.id, type: 'phone', value: '+821012345678' },
    });

    const error = await prisma.identity
      .create({ data: { workspaceId: ws.id, customerId: b!.id, type: 'phone', value: '+821012345678' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((error as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');

    // The same value under another type, or in another workspace, is a different identity.
    await expect(
      prisma.identity.create({
        data: { workspaceId: ws.id, customerId: b!.id, type: 'user_id', value: '+821012345678' },
      }),
    ).resolves.toBeDefined();
  });

  it('merges a customer into another through the self relation', async () => {
    const ws = await prisma.workspace.create({ data: { slug: `ws3-${name}`, name: 'Merge' } });
    const survivor = await prisma.customer.create({ data: { workspaceId: ws.id, customerCode: 'S' } });
    const merged = await prisma.customer.create({
      data: { workspaceId: ws.id, customerCode: 'M', mergedIntoId: survivor.id, mergedAt: new Date() },
    });
    const found = await prisma.customer.findUnique({
      where: { id: survivor.id },
      include: { mergedFrom: true },
    });
    expect(found?.mergedFrom.map((c) => c.id)).toEqual([merged.id]);
  });

  it('runs a Prisma client and plain SQL on one shared pool, which outlives the client', async () => {
    const { prisma: shared, pool, close } = createDatabase(db.url, { max: 1 });
    try {
      const ws = await shared.workspace.create({ data: { slug: `ws4-${name}`, name: 'Shared' } });
      // One connection in all: the plain query waits for the one Prisma used, then reuses it.
      const { rows } = await pool.query<{ name: string }>('SELECT name FROM workspaces WHERE id = $1', [
        ws.id,
      ]);
      expect(rows).toEqual([{ name: 'Shared' }]);
      expect(pool.totalCount).toBe(1);
      await shared.$disconnect();
      await expect(pool.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
      // A broken idle connection is reported on the pool; without a listener it would end the process.
      expect(() => pool.emit('error', new Error('terminating connection'))).not.toThrow();
    } finally {
      await close();
    }
  });

  it('drop() removes the database', async () => {
    await prisma.$disconnect();
    expect(await databaseExists(db.url)).toBe(true);
    await db.drop();
    expect(await databaseExists(db.url)).toBe(false);
  });
});
