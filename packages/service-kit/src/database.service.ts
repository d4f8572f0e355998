import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createPgPool, createPrismaClient, type Pool, type PrismaClient } from '@cdp/db';
import { SERVICE_CONFIG } from './tokens';
import type { BaseConfig } from './config';

/**
 * The service's Prisma client and, on the same connections, a pg pool for plain SQL on hot paths.
 * Both connect lazily, so a service starts (not ready) while Postgres is down.
 */
@Injectable()
export class DatabaseService implements OnApplicationShutdown {
  readonly pool: Pool;
  readonly client: PrismaClient;

  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    this.pool = createPgPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE });
    this.client = createPrismaClient(config.DATABASE_URL, { pool: this.pool });
  }

  async ping(timeoutMs = 2000): Promise<void> {
    await withTimeout(this.client.$queryRaw`SELECT 1`, timeoutMs, 'postgres');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.$disconnect();
    await this.pool.end();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
