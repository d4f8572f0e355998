import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { closeRedis, closeWithin, SERVICE_CONFIG } from '@cdp/service-kit';
import type { ChannelName } from '../channels/channel-adapter';
import type { DeliveryConfig } from '../config';
import { bullPrefix, DELIVERY_QUEUES, type SendJob, type SendJobData } from './delivery-queues';
import { aofEnabled, NO_AOF_WARNING } from './redis-persistence';

const DAY_SECONDS = 24 * 3600;

/** The per-channel BullMQ queues and the Redis connection BullMQ uses (workers included). */
@Injectable()
export class SendQueues implements OnApplicationShutdown {
  private readonly logger = new Logger(SendQueues.name);
  /** Workers (and the rate limiter they call) wait for Redis to come back instead of failing jobs. */
  readonly connection: Redis;
  /** Producers fail fast while Redis is down: the request is nak'ed and redelivered, an API call gets 503. */
  private readonly producerConnection: Redis;
  readonly prefix: string;
  private readonly queues: Map<ChannelName, Queue<SendJobData>>;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig) {
    this.prefix = bullPrefix(config.NATS_PREFIX);
    this.connection = new Redis(config.REDIS_URL, {
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    });
    this.producerConnection = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    });
    for (const c of [this.connection, this.producerConnection])
      c.on('error', (e: Error) => this.logger.warn(`BullMQ Redis connection: ${e.message}`));
    // On every (re)connection: a Redis restarted without its AOF has just lost the jobs it held.
    this.producerConnection.on('ready', () => {
      void this.persistenceWarning().then((warning) => warning && this.logger.warn(warning));
    });
    this.queues = new Map(
      (Object.entries(DELIVERY_QUEUES) as [ChannelName, string][]).map(([channel, name]) => [
        channel,
        new Queue<SendJobData>(name, {
          connection: this.producerConnection,
          prefix: this.prefix,
          defaultJobOptions: {
            attempts: config.DELIVERY_MAX_ATTEMPTS,
            backoff: { type: 'provider' },
            removeOnComplete: { count: config.DELIVERY_KEEP_COMPLETED_JOBS, age: DAY_SECONDS },
            removeOnFail: { count: config.DELIVERY_KEEP_FAILED_JOBS, age: 7 * DAY_SECONDS },
          },
        }),
      ]),
    );
  }

  queueOf(channel: ChannelName): Queue<SendJobData> {
    const queue = this.queues.get(channel);
    if (!queue) throw new Error(`no queue for channel ${channel}`);
    return queue;
  }

  /** The job id is the ledger id: a redelivered request finds the job already there and adds nothing. */
  async enqueue(channel: ChannelName, job: SendJob): Promise<void> {
    await this.queueOf(channel).add('send', job, { jobId: job.messageId });
  }

  /**
   * Batch jobs of one channel in one round trip. The id of each is the `sendJobId` written on its
   * messages' ledger rows, so a redelivered request finds the job already there and adds nothing.
   */
  async enqueueBatches(channel: ChannelName, jobs: { id: string; messages: SendJob[] }[]): Promise<void> {
    if (!jobs.length) return;
    await this.queueOf(channel).addBulk(
      jobs.map((j) => ({ name: 'send', data: { messages: j.messages }, opts: { jobId: j.id } })),
    );
  }

  /** Runs `listener` now if the connection that adds jobs is up, and each time it is (re)established. */
  onRedisReady(listener: () => void): void {
    this.producerConnection.on('ready', listener);
    if (this.producerConnection.status === 'ready') listener();
  }

  /**
   * Redis's run id, and whether it differs from the one recorded by `recordRedisRunId` (or none is
   * recorded): Redis restarted or failed over since, and may have lost jobs. An OS crash loses the
   * AOF's last second; a Redis without the AOF loses everything, the recorded id with it.
   */
  async redisRunIdChanged(): Promise<{ runId: string; changed: boolean } | undefined> {
    const runId = /^run_id:(\w+)/m.exec(await this.producerConnection.info('server'))?.[1];
    if (!runId) return undefined;
    const recorded = await this.producerConnection.get(this.runIdKey);
    return { runId, changed: recorded !== runId };
  }

  /** Records the run id of a Redis whose lost jobs have been dealt with. */
  async recordRedisRunId(runId: string): Promise<void> {
    await this.producerConnection.set(this.runIdKey, runId);
  }

  private get runIdKey(): string {
    return `${this.prefix}:redis-run-id`;
  }

  /** Why Redis may lose send jobs, from its persistence settings; undefined if it keeps them (or cannot tell). */
  async persistenceWarning(): Promise<string | undefined> {
    const info = await this.producerConnection.info('persistence').catch(() => '');
    return aofEnabled(info) === false ? NO_AOF_WARNING : undefined;
  }

  /** Whether a job with this id is still in the queue (waiting, delayed, active or kept finished). */
  async hasJob(channel: ChannelName, id: string): Promise<boolean> {
    return (await this.queueOf(channel).getJob(id)) !== undefined;
  }

  /** Enqueues a message again after its job gave up; the finished job is removed first so the id is free. */
  async requeue(channel: ChannelName, job: SendJob): Promise<void> {
    const queue = this.queueOf(channel);
    const previous = await queue.getJob(job.messageId);
    if (previous && (await previous.isActive())) return;
    if (previous) await previous.remove();
    await queue.add('send', job, { jobId: job.messageId });
  }

  async onApplicationShutdown(): Promise<void> {
    // Like QUIT, a queue's close waits for Redis; one that is reconnecting is dropped after 2 s.
    await Promise.all([...this.queues.values()].map((q) => closeWithin(q, 'queue close')));
    for (const c of [this.connection, this.producerConnection]) await closeRedis(c);
  }
}
