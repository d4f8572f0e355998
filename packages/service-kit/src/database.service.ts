import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  createDatabase,
  inTransaction,
  type Database,
  type Pool,
  type PrismaClient,
  type Sql,
} from '@cdp/db';
import { SERVICE_CONFIG } from './tokens';
import type { BaseConfig } from './config';

/**
 * The service's Prisma client, and the `pg` pool under it for raw SQL on hot paths (one set of
 * connections). Connects lazily, so a service starts (not ready) while Postgres is down.
 */
@Injectable()
export class DatabaseService implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseService.name);
  private readonly database: Database;
  readonly client: PrismaClient;
  /** Single statements of plain SQL (`pool.query`), on the connections Prisma uses too. */
  readonly pool: Pool;

  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    this.database = createDatabase(config.DATABASE_URL, {
      max: config.DATABASE_POOL_SIZE,
      onIdleError: (error) => this.logger.warn(`idle Postgres connection failed: ${error.message}`),
    });
    this.client = this.database.prisma;
    this.pool = this.database.pool;
  }

  /** Runs `work` in a transaction of plain SQL, without Prisma's per-statement compilation. */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return inTransaction(this.database.pool, work);
  }

  async ping(timeoutMs = 2000): Promise<void> {
    await withTimeout(this.client.$queryRaw`SELECT 1`, timeoutMs, 'postgres');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
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
