import { withTimeout } from './database.service';
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

/**
 * Closes a BullMQ queue or worker without letting shutdown hang on Redis: like QUIT, `close()`
 * waits for Redis, so one whose connection is reconnecting is disconnected after `ms` (a worker's
 * running jobs are then left to BullMQ's stalled-job check, which runs them again). The disconnect
 * gets `ms` too: a worker's was seen never to settle after Redis had been cut and restored, which
 * kept a delivery app's close from ever finishing; the process's exit closes the sockets.
 */
export async function closeWithin(
  closable: { close(): Promise<void>; disconnect(): Promise<void> },
  what: string,
  ms = 2000,
): Promise<void> {
  await withTimeout(closable.close(), ms, what).catch(() =>
    withTimeout(closable.disconnect(), ms, `${what} (disconnect)`).catch(() => undefined),
  );
}
