import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { PrismaClient } from './generated/prisma/client';
import { DEFAULT_DATABASE_URL } from './config';
import { createPool, type CreatePoolOptions } from './sql';

export type CreatePrismaClientOptions = CreatePoolOptions;

/**
 * A PrismaClient on the `pg` driver adapter (no native query engine: the generator uses
 * engineType "client"). Call `$disconnect()` when done; the pool is closed with it.
 */
export function createPrismaClient(
  url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  opts: CreatePrismaClientOptions = {},
): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: url,
    ...(opts.max !== undefined ? { max: opts.max } : {}),
  });
  return new PrismaClient({ adapter });
}

/** How long close() waits for connections still checked out. */
const POOL_END_WAIT_MS = 5000;

/** A PrismaClient and the `pg` pool under it, shared (one set of connections) for raw SQL on hot paths. */
export interface Database {
  prisma: PrismaClient;
  pool: Pool;
  /** Disconnects Prisma and ends the pool. */
  close(): Promise<void>;
}

export function createDatabase(
  url: string = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  opts: CreatePoolOptions = {},
): Database {
  const pool = createPool(url, opts);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      // end() waits for checked-out connections; a query stuck on a dead socket must not keep a
      // shutting-down process alive, so wait a bounded time and let exit close the sockets.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        pool.end().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, POOL_END_WAIT_MS))),
      ]);
      clearTimeout(timer);
    },
  };
}
