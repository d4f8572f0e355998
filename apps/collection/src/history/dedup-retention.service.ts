import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { Queue, Worker } from 'bullmq';
import { closeWithin, DatabaseService, queueOptions, SERVICE_CONFIG } from '@cdp/service-kit';
import type { CollectionConfigSchema } from '../config';

/** Never rename without a migration plan: the schedule lives under this name in Redis. */
export const MAINTENANCE_QUEUE = 'collection-maintenance';
const HOUR_MS = 3_600_000;
const PRUNE_EVERY_MS = HOUR_MS;
/** Rows per DELETE: short statements, so ingest transactions never wait long behind one. */
const PRUNE_CHUNK = 10_000;

/**
 * Keeps the durable messageId dedup keys (event_message_ids) for DEDUP_RETENTION_HOURS and
 * deletes older ones every hour, so the table holds a bounded window (~290 B per key, see the
 * README) instead of growing forever. A BullMQ job scheduler runs it on one worker-tier replica
 * at a time; the API tier (CONSUMERS=false) does not take part.
 */
@Injectable()
export class DedupRetentionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DedupRetentionService.name);
  private readonly options: ReturnType<typeof queueOptions>;
  private queue?: Queue;
  private worker?: Worker;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Static<typeof CollectionConfigSchema>,
    private readonly db: DatabaseService,
  ) {
    this.options = queueOptions(config);
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    this.queue = new Queue(MAINTENANCE_QUEUE, this.options);
    this.worker = new Worker(MAINTENANCE_QUEUE, () => this.prune(), this.options);
    this.worker.on('failed', (_job, e) => this.logger.warn(`pruning dedup keys failed: ${e.message}`));
    await this.queue.upsertJobScheduler(
      'prune-dedup-keys',
      { every: PRUNE_EVERY_MS },
      { name: 'prune-dedup-keys', opts: { removeOnComplete: 24, removeOnFail: 24 } },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.worker) await closeWithin(this.worker, 'dedup pruning worker', 5000);
    if (this.queue) await closeWithin(this.queue, 'dedup pruning queue');
  }

  /** Deletes the keys of events received before the retention window; returns how many. */
  async prune(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.config.DEDUP_RETENTION_HOURS * HOUR_MS);
    let total = 0;
    for (;;) {
      const { rowCount } = await this.db.pool.query(
        `DELETE FROM event_message_ids WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM event_message_ids WHERE received_at < $1 LIMIT $2))`,
        [before.toISOString(), PRUNE_CHUNK],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < PRUNE_CHUNK) break;
    }
    if (total) this.logger.log(`deleted ${total} dedup keys received before ${before.toISOString()}`);
    return total;
  }
}
