import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SERVICE_CONFIG } from './tokens';
import type { BaseConfig } from './config';
import { withTimeout } from './database.service';

/**
 * Closes an ioredis connection at shutdown: QUIT waits for Redis to answer, which a connection that
 * is reconnecting may never do, so after `ms` it is dropped instead.
 */
export async function closeRedis(client: Redis, ms = 2000): Promise<void> {
  await withTimeout(client.quit(), ms, 'redis quit').catch(() => client.disconnect());
}

/** Shared ioredis connection; commands fail fast while Redis is down instead of queueing. */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis;

  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    this.client = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    });
    let down = false;
    this.client.on('error', (e: Error) => {
      if (!down) this.logger.warn(`Redis connection error: ${e.message}; reconnecting`);
      down = true;
    });
    this.client.on('ready', () => {
      if (down) this.logger.log('Redis connection restored');
      down = false;
    });
  }

  async ping(timeoutMs = 2000): Promise<void> {
    await withTimeout(this.client.ping(), timeoutMs, 'redis');
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.client);
  }
}
