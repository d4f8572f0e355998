// Raw SQL transactions on the pg pool shared with Prisma (createDatabase), against the local
// PostgreSQL: commit, rollback on a rejection, and a connection killed mid-transaction.
import { randomBytes } from 'node:crypto';
import {
  createDatabase,
  createTestDatabase,
  inTransaction,
  prismaSql,
  type Database,
  type TestDatabase,
} from '../src';

describe('inTransaction', () => {
  let database: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_sql_${randomBytes(4).toString('hex')}`);
    db = createDatabase(database.url, { max: 3 });
    await db.pool.query('CREATE TABLE probe (id int PRIMARY KEY, note text)');
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('commits what the work wrote when it resolves', async () => {
    const n = await inTransaction(db.pool, (sql) =>
      sql.execute('INSERT INTO probe VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b']),
    );
    expect(n).toBe(2);
    // Prisma reads the same rows through the same pool.
    expect(await prismaSql(db.prisma).query('SELECT id, note FROM probe ORDER BY id')).toEqual([
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
    ]);
  });

  it('rolls everything back and passes the rejection on', async () => {
    await expect(
      inTransaction(db.pool, async (sql) => {
        await sql.execute('INSERT INTO probe VALUES (3, $1)', ['c']);
        await sql.execute('INSERT INTO probe VALUES (1, $1)', ['duplicate']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db.pool.query('SELECT id FROM probe WHERE id = 3')).toMatchObject({ rowCount: 0 });
  });

  it('discards a connection killed mid-transaction, and the pool goes on', async () => {
    await expect(
      inTransaction(db.pool, async (sql) => {
        const [me] = await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await db.pool.query('SELECT pg_terminate_backend($1)', [me!.pid]);
        await sql.query('SELECT 1');
      }),
    ).rejects.toThrow();
    const rows = await inTransaction(db.pool, (sql) =>
      sql.query<{ n: number }>('SELECT count(*)::int AS n FROM probe'),
    );
    expect(rows).toEqual([{ n: 2 }]);
  });
});
