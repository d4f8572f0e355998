import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { DatabaseService, queueOptions, ScheduledJobs, SERVICE_CONFIG } from '@cdp/service-kit';
import type { CollectionConfigSchema } from '../config';

/** Never rename without a migration plan: the schedule lives under this name in Redis. */
export const MAINTENANCE_QUEUE = 'collection-maintenance';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Rows per DELETE: short statements, so ingest transactions never wait long behind one. */
const PRUNE_CHUNK = 10_000;
/** Job scheduler keys (and job names) on MAINTENANCE_QUEUE. */
export const PRUNE_DEDUP_KEYS = 'prune-dedup-keys';
export const EXPIRE_EVENTS = 'expire-events';

/**
 * Bounds what the interaction history keeps, every hour: the durable messageId dedup keys
 * (event_message_ids) for DEDUP_RETENTION_HOURS, so the table holds a bounded window (~290 B per
 * key, see the README), and each workspace's events for its `event_retention_days`. BullMQ job
 * schedulers run both on one worker-tier replica at a time; the API tier (CONSUMERS=false) does
 * not take part.
 */
@Injectable()
export class HistoryRetentionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(HistoryRetentionService.name);
  private readonly jobs: ScheduledJobs;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Static<typeof CollectionConfigSchema>,
    private readonly db: DatabaseService,
  ) {
    this.jobs = new ScheduledJobs(MAINTENANCE_QUEUE, queueOptions(config));
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    await this.jobs.start(
      [PRUNE_DEDUP_KEYS, EXPIRE_EVENTS].map((name) => ({ name, everyMs: HOUR_MS })),
      (name) => (name === EXPIRE_EVENTS ? this.expireEvents() : this.prune()),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
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

  /**
   * Deletes each workspace's events received more than its `event_retention_days` ago (a value
   * below 1 keeps them forever), in chunks through the (workspace_id, received_at) index; returns
   * how many. Their dedup keys went long before (DEDUP_RETENTION_HOURS).
   */
  async expireEvents(now = new Date()): Promise<number> {
    const { rows: workspaces } = await this.db.pool.query<{ id: string; days: number }>(
      'SELECT id, event_retention_days AS days FROM workspaces WHERE event_retention_days > 0',
    );
    let total = 0;
    for (const { id, days } of workspaces) {
      const before = new Date(now.getTime() - days * DAY_MS);
      let deleted = 0;
      for (;;) {
        const { rowCount } = await this.db.pool.query(
          `DELETE FROM events WHERE id = ANY(ARRAY(
            SELECT id FROM events WHERE workspace_id = $1 AND received_at < $2 LIMIT $3))`,
          [id, before.toISOString(), PRUNE_CHUNK],
        );
        deleted += rowCount ?? 0;
        if ((rowCount ?? 0) < PRUNE_CHUNK) break;
      }
      if (deleted)
        this.logger.log(
          `deleted ${deleted} events of workspace ${id} received before ${before.toISOString()}`,
        );
      total += deleted;
    }
    return total;
  }
}
