import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Worker } from 'bullmq';
import { closeWithin, SERVICE_CONFIG, withTimeout } from '@cdp/service-kit';
import { SendError } from '../channels/channel-adapter';
import type { DeliveryConfig } from '../config';
import { DELIVERY_QUEUES, type SendJobData } from '../queues/delivery-queues';
import { SendQueues } from '../queues/send-queues';
import { MessagesService } from './messages.service';

/**
 * One BullMQ worker per channel queue. A killed process's jobs are taken up again once their lock
 * expires (stalled); the ledger decides what a second run of a job may do.
 */
/** How long shutdown waits for send jobs in flight (well under Kubernetes' 30 s default grace). */
const SHUTDOWN_GRACE_MS = 10_000;

@Injectable()
export class SendWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SendWorkers.name);
  private workers: Worker<SendJobData>[] = [];

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    private readonly queues: SendQueues,
    private readonly messages: MessagesService,
  ) {}

  onApplicationBootstrap(): void {
    const { config } = this;
    this.workers = Object.values(DELIVERY_QUEUES).map((name) => {
      const worker = new Worker<SendJobData>(name, (job, token) => this.messages.send(job, token), {
        connection: this.queues.connection,
        prefix: this.queues.prefix,
        concurrency: config.DELIVERY_WORKER_CONCURRENCY,
        lockDuration: config.DELIVERY_JOB_LOCK_MS,
        stalledInterval: config.DELIVERY_JOB_LOCK_MS,
        // A stalled job is a crashed process, not a bad message: the ledger makes a rerun safe.
        maxStalledCount: 100,
        settings: {
          backoffStrategy: (attemptsMade, _type, error) =>
            error instanceof SendError && error.retryAfterMs !== undefined
              ? error.retryAfterMs
              : config.DELIVERY_BACKOFF_MS * 2 ** Math.max(attemptsMade - 1, 0),
        },
      });
      worker.on('error', (e) => this.logger.warn(`${name} worker: ${e.message}`));
      worker.on('failed', (job, e) => {
        if (job && job.attemptsMade < (job.opts.attempts ?? 1) && !(e.name === 'UnrecoverableError'))
          this.logger.log(`${name} job ${job.id} attempt ${job.attemptsMade} failed, retrying: ${e.message}`);
      });
      return worker;
    });
  }

  /**
   * Stops taking jobs and waits for the ones in flight, before Postgres and Redis close; after
   * SHUTDOWN_GRACE_MS it stops waiting (a send hanging on an unreachable provider): the job's
   * lock expires, it is retried, and the ledger turns its messages still `sending` into `unknown`.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const closed = await withTimeout(
      Promise.all(this.workers.map((w) => w.close())),
      SHUTDOWN_GRACE_MS,
      'send jobs',
    ).then(
      () => true,
      () => false,
    );
    if (!closed) {
      this.logger.warn(`send jobs still running after ${SHUTDOWN_GRACE_MS} ms; closing without them`);
      // A forced close still waits for Redis; a worker whose connection is reconnecting is dropped.
      await Promise.all(
        this.workers.map((w) =>
          closeWithin({ close: () => w.close(true), disconnect: () => w.disconnect() }, 'worker close'),
        ),
      );
    }
  }
}
