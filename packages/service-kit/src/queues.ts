import type { BaseConfig } from './config';

/**
 * BullMQ connection and key prefix for a service. The run's NATS_PREFIX also separates queue
 * keys, so parallel test runs sharing one Redis never see each other's jobs.
 */
export function queueOptions(config: BaseConfig): {
  connection: { url: string; maxRetriesPerRequest: null };
  prefix: string;
} {
  return {
    connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
    prefix: config.NATS_PREFIX ? `cdp-${config.NATS_PREFIX}` : 'cdp',
  };
}
