import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { SendQueues } from './send-queues';

/** What an account's budget allows now: `granted` sends, and if fewer than asked, how long to wait. */
export interface RateGrant {
  granted: number;
  waitMs: number;
}

/**
 * Sends per second per provider account (workspace × provider), shared by every delivery process
 * through Redis. BullMQ's own limiter is per queue, which would let one busy workspace hold back all.
 * The rate is the account's own (`rateLimitPerSecond` in its provider settings) or the default.
 */
@Injectable()
export class ProviderRateLimiter {
  /** One limiter per rate; they share the counters (same key prefix), only the ceiling differs. */
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    private readonly queues: SendQueues,
  ) {}

  /**
   * Takes up to `wanted` sends from the account's budget of this second in one Redis call. Counting
   * is atomic, so processes taking at once never get more than the rate together; what a refused
   * call counted beyond the ceiling expires with the window, so nothing is lost.
   */
  async take(
    workspaceId: string,
    provider: string,
    wanted = 1,
    perSecond = this.config.DELIVERY_RATE_LIMIT_PER_SECOND,
  ): Promise<RateGrant> {
    try {
      await this.limiter(perSecond).consume(`${workspaceId}:${provider}`, wanted);
      return { granted: wanted, waitMs: 0 };
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const before = e.consumedPoints - wanted;
      return {
        granted: Math.max(0, Math.min(wanted, perSecond - before)),
        waitMs: Math.max(e.msBeforeNext, 1),
      };
    }
  }

  private limiter(points: number): RateLimiterRedis {
    let limiter = this.limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.queues.connection,
        keyPrefix: `${this.queues.prefix}:ratelimit`,
        points,
        duration: 1,
      });
      this.limiters.set(points, limiter);
    }
    return limiter;
  }
}
