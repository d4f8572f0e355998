import { Logger } from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
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

/**
 * Jobs a service runs on a schedule on one replica at a time: a BullMQ queue with its job
 * schedulers (one per job name, upserted at start, so redeploys do not pile them up) and a worker
 * that hands each job's name to `run`. Failures are logged; the next scheduled run retries.
 */
export class ScheduledJobs {
  private queue?: Queue;
  private worker?: Worker;
  private readonly logger: Logger;

  constructor(
    private readonly queueName: string,
    private readonly options: ReturnType<typeof queueOptions>,
  ) {
    this.logger = new Logger(queueName);
  }

  async start(
    schedules: ReadonlyArray<{ name: string; everyMs: number }>,
    run: (jobName: string) => Promise<unknown>,
  ): Promise<void> {
    this.queue = new Queue(this.queueName, this.options);
    this.worker = new Worker(this.queueName, (job) => run(job.name), this.options);
    this.worker.on('failed', (job, e) => this.logger.warn(`${job?.name ?? 'job'} failed: ${e.message}`));
    for (const { name, everyMs } of schedules)
      await this.queue.upsertJobScheduler(
        name,
        { every: everyMs },
        { name, opts: { removeOnComplete: 24, removeOnFail: 24 } },
      );
  }

  async close(): Promise<void> {
    if (this.worker) await closeWithin(this.worker, `${this.queueName} worker`, 5000);
    if (this.queue) await closeWithin(this.queue, `${this.queueName} queue`);
  }
}
