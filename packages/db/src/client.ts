import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client';
import { DEFAULT_DATABASE_URL } from './config';

export interface CreatePrismaClientOptions {
  /** Maximum number of pooled connections (pg default: 10). */
  max?: number;
}

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
