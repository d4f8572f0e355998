import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { Prisma } from './generated/prisma/client';

/**
 * A connection inside a transaction, whichever client holds it: plain `pg` on hot paths, a Prisma
 * interactive transaction elsewhere. Placeholders are $1, $2, ...; int8 columns come back in
 * whatever form the client gives (cast them to text in the query when the value matters).
 *
 * Why not always Prisma: with the driver adapter, every raw statement is compiled by Prisma's WASM
 * query compiler with its parameters, so a batch insert of a few hundred 1 KB rows spends more CPU
 * serialising its arguments into and out of WASM than Postgres spends storing them (measured:
 * ~35% of the ingest worker's CPU in compile and plan interpretation).
 */
export interface Sql {
  query<T>(text: string, values?: readonly unknown[]): Promise<T[]>;
  /** A statement whose rows nobody reads (SET, UPDATE without RETURNING); resolves to the row count. */
  execute(text: string, values?: readonly unknown[]): Promise<number>;
}

/** The Sql of a Prisma interactive transaction (or client). */
export function prismaSql(tx: Prisma.TransactionClient): Sql {
  return {
    query: <T>(text: string, values: readonly unknown[] = []) => tx.$queryRawUnsafe<T[]>(text, ...values),
    execute: (text, values = []) => tx.$executeRawUnsafe(text, ...values),
  };
}

function pgSql(client: PoolClient): Sql {
  return {
    query: async <T>(text: string, values: readonly unknown[] = []) =>
      (await client.query(text, values as unknown[])).rows as T[],
    execute: async (text, values = []) => (await client.query(text, values as unknown[])).rowCount ?? 0,
  };
}

/**
 * Runs `work` in a transaction on a connection of `pool`: COMMIT when it resolves, ROLLBACK when it
 * rejects (the rejection is passed on). A connection that failed mid-transaction is discarded.
 */
export async function inTransaction<T>(pool: Pool, work: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection lost while checked out emits 'error' on the client (the pool only listens while
  // it is idle); unheard, it would crash the process. The running query rejects as well.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(pgSql(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export interface CreatePoolOptions {
  /** Maximum number of pooled connections (pg default: 10). */
  max?: number;
  /** Called for errors of idle connections (e.g. the server closed them); without it they crash the process. */
  onIdleError?: (error: Error) => void;
}

/** A `pg` pool; a connection is waited for at most 10 s, so a full pool fails a request instead of hanging it. */
export function createPool(url: string, opts: CreatePoolOptions = {}): Pool {
  const config: PoolConfig = { connectionString: url, connectionTimeoutMillis: 10_000, keepAlive: true };
  if (opts.max !== undefined) config.max = opts.max;
  const pool = new Pool(config);
  pool.on('error', opts.onIdleError ?? (() => undefined));
  return pool;
}
