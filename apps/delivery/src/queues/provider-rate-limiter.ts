import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { SendQueues } from './send-queues';

/**
 * Sends per second per provider account (workspace × provider), shared by every delivery process
 * through Redis. BullMQ's own limiter is per queue, which would let one busy workspace hold back all.
 */
@Injectable()
export class ProviderRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(@Inject(SERVICE_CONFIG) config: DeliveryConfig, queues: SendQueues) {
    this.limiter = new RateLimiterRedis({
      storeClient: queues.connection,
      keyPrefix: `${queues.prefix}:ratelimit`,
      points: config.DELIVERY_RATE_LIMIT_PER_SECOND,
      duration: 1,
    });
  }

  /** Takes one send from the account's budget: 0 when allowed, else how many ms to wait. */
  async take(workspaceId: string, provider: string): Promise<number> {
    try {
      await this.limiter.consume(`${workspaceId}:${provider}`);
      return 0;
    } catch (e) {
      if (e instanceof RateLimiterRes) return Math.max(e.msBeforeNext, 1);
      throw e;
    }
  }
}
