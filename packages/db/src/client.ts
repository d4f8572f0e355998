import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from './generated/prisma/client';
import { DEFAULT_DATABASE_URL } from './config';

export { Pool };

export interface CreatePrismaClientOptions {
  /** Maximum number of pooled connections (pg default: 10). Ignored when `pool` is given. */
  max?: number;
  /**
   * Run on this pool instead of one of its own, so plain SQL on the pool and Prisma share the
   * connections. The caller ends it (after `$disconnect()`).
   */
  pool?: Pool;
}

/**
 * A pg pool for plain SQL on hot paths: Prisma's query compiler serialises every call (parameters
 * included) into its WebAssembly module, which the delivery benchmark profiled as the largest CPU
 * cost per message. An idle connection's error (Postgres restarted) is absorbed here: the pool
 * drops that connection, and without a listener the event would end the process.
 */
export function createPgPool(
  url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  opts: { max?: number } = {},
): Pool {
  const pool = new Pool({ connectionString: url, ...(opts.max !== undefined ? { max: opts.max } : {}) });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A PrismaClient on the `pg` driver adapter (no native query engine: the generator uses
 * engineType "client"). Call `$disconnect()` when done; the pool is closed with it unless it was
 * passed in.
 */
export function createPrismaClient(
  url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  opts: CreatePrismaClientOptions = {},
): PrismaClient {
  const adapter = opts.pool
    ? new PrismaPg(opts.pool)
    : new PrismaPg({
        connectionString: url,
        ...(opts.max !== undefined ? { max: opts.max } : {}),
      });
  return new PrismaClient({ adapter });
}
