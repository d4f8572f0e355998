/**
 * The send queues say so when the real local Redis would lose their jobs on a restart (no AOF).
 */
import { Redis } from 'ioredis';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '@cdp/testing';
import type { DeliveryConfig } from '../src/config';
import { SendQueues } from '../src/queues/send-queues';
import { NO_AOF_WARNING } from '../src/queues/redis-persistence';

describe('SendQueues on the local Redis', () => {
  it('warns exactly when Redis runs without its append-only file', async () => {
    const redis = new Redis(REDIS_URL);
    const prefix = testPrefix('dqaof');
    const queues = new SendQueues({
      REDIS_URL,
      NATS_PREFIX: prefix,
      DELIVERY_MAX_ATTEMPTS: 3,
      DELIVERY_KEEP_COMPLETED_JOBS: 10,
      DELIVERY_KEEP_FAILED_JOBS: 10,
    } as DeliveryConfig);
    try {
      const [, appendonly] = (await redis.config('GET', 'appendonly')) as [string, string];
      await queues.queueOf('email').waitUntilReady();
      expect(await queues.persistenceWarning()).toBe(appendonly === 'no' ? NO_AOF_WARNING : undefined);
    } finally {
      await queues.onApplicationShutdown();
      // BullMQ writes each queue's meta key once its connection is ready.
      await deleteRedisKeys(prefix);
      await redis.quit();
    }
  });
});
