import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Static } from '@sinclair/typebox';
import { DatabaseService, queueOptions, ScheduledJobs, SERVICE_CONFIG } from '@cdp/service-kit';
import type { CollectionConfigSchema } from '../config';
import { ErasureService } from '../customers/erasure.service';

/** Never rename without a migration plan: the schedule lives under this name in Redis. */
export const DISPOSAL_QUEUE = 'collection-disposal';
export const DISPOSE_CUSTOMERS = 'dispose-customers';
const EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Customers erased per query; a run goes on until none is due (at most MAX_ROUNDS queries per workspace). */
const BATCH = 100;
const MAX_ROUNDS = 50;
/** The actor of disposals in the audit log and the erasure outbox. */
export const DISPOSAL_ACTOR = 'system:retention';

/**
 * Disposal at the end of the retention period: every hour, on one worker-tier replica, erases the
 * live customers whose `retention_expires_at` has passed (set by `PUT /v1/customers/:id/retention`)
 * and, where the workspace sets `inactiveCustomerRetentionDays`, those last seen longer ago that
 * hold no active contract and have no date of their own, exactly as a request to erase them would
 * (without suppression).
 */
@Injectable()
export class DisposalService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DisposalService.name);
  private readonly jobs: ScheduledJobs;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: Static<typeof CollectionConfigSchema>,
    private readonly db: DatabaseService,
    private readonly erasure: ErasureService,
  ) {
    this.jobs = new ScheduledJobs(DISPOSAL_QUEUE, queueOptions(config));
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    await this.jobs.start([{ name: DISPOSE_CUSTOMERS, everyMs: EVERY_MS }], () => this.disposeDue());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }

  /** Erases every live customer whose retention ended before `now`; returns how many. */
  async disposeDue(now = new Date()): Promise<number> {
    const { rows: workspaces } = await this.db.pool.query<{ id: string }>('SELECT id FROM workspaces');
    let erased = 0;
    const failed: string[] = [];
    for (const { id: workspaceId } of workspaces)
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const { rows } = await this.db.pool.query<{ id: string }>(
          `SELECT id FROM customers
           WHERE workspace_id = $1 AND retention_expires_at < $2 AND erased_at IS NULL AND merged_into_id IS NULL
             AND NOT (id = ANY($3::text[]))
           ORDER BY retention_expires_at LIMIT ${BATCH}`,
          [workspaceId, now.toISOString(), failed],
        );
        for (const { id } of rows) if (await this.dispose(workspaceId, id, failed)) erased++;
        if (rows.length < BATCH) break;
      }
    for (const { id: workspaceId, days } of await this.inactivityPolicies()) {
      const since = new Date(now.getTime() - days * DAY_MS);
      // One pass of the workspace's customers (last_seen_at has no index: every event moves it).
      const { rows } = await this.db.pool.query<{ id: string }>(
        `SELECT c.id FROM customers c
         WHERE c.workspace_id = $1 AND c.last_seen_at < $2 AND c.retention_expires_at IS NULL
           AND c.erased_at IS NULL AND c.merged_into_id IS NULL AND NOT (c.id = ANY($3::text[]))
           AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.customer_id = c.id AND k.status = 'active')
         ORDER BY c.last_seen_at LIMIT ${BATCH * MAX_ROUNDS}`,
        [workspaceId, since.toISOString(), failed],
      );
      for (const { id } of rows) if (await this.dispose(workspaceId, id, failed)) erased++;
    }
    if (erased) this.logger.log(`erased ${erased} customers at the end of their retention`);
    return erased;
  }

  private async inactivityPolicies(): Promise<Array<{ id: string; days: number }>> {
    const { rows } = await this.db.pool.query<{ id: string; days: number }>(
      'SELECT id, inactive_customer_retention_days AS days FROM workspaces WHERE inactive_customer_retention_days > 0',
    );
    return rows;
  }

  /** Erases one customer as a request would; a failure is left for the next run. */
  private async dispose(workspaceId: string, id: string, failed: string[]): Promise<boolean> {
    try {
      // Leaving the retention period is no request to be forgotten: a person who comes back is
      // collected again.
      await this.erasure.erase(workspaceId, id, DISPOSAL_ACTOR, { suppress: false });
      return true;
    } catch (error) {
      failed.push(id);
      this.logger.warn(`disposing of customer ${id} failed, retried next run: ${String(error)}`);
      return false;
    }
  }
}
