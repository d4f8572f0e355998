import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';

interface PendingMerge {
  id: string;
  workspace_id: string;
  survivor_id: string;
  merged_id: string;
  reason: string;
  identifier_type: string;
  merged_at: Date;
  announced_at: Date | null;
  unmerged_at: Date | null;
}

const BATCH = 100;
/** Delay before the relay looks for a merge made in a transaction that has not committed yet. */
const AFTER_COMMIT_DELAY_MS = 200;

/**
 * Outbox relay of customer_merges: publishes cdp.identity.merged / cdp.identity.unmerged for rows
 * not announced yet and marks them. Rows are claimed with FOR UPDATE SKIP LOCKED, so relays running
 * at once (two replicas, a sweep and a kick) never take the same row; a crash between publish and
 * commit re-publishes with the same Nats-Msg-Id (the merge id), which JetStream drops as a duplicate.
 * Runs right after a merge commits (announceSoon / announcePending) and every
 * MERGE_OUTBOX_SWEEP_MS for whatever a crash or a NATS outage left behind.
 */
@Injectable()
export class MergeAnnouncer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MergeAnnouncer.name);
  private sweep?: NodeJS.Timeout;
  private readonly kicks = new Set<NodeJS.Timeout>();
  private running: Promise<number> | undefined;
  /** Set at shutdown: a batch that stored merges while the app closed starts no new run. */
  private closed = false;

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: { MERGE_OUTBOX_SWEEP_MS?: number },
  ) {}

  onModuleInit(): void {
    const every = this.config.MERGE_OUTBOX_SWEEP_MS ?? 5000;
    this.sweep = setInterval(() => void this.runLogged(), every);
    this.sweep.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweep);
    for (const kick of this.kicks) clearTimeout(kick);
    this.kicks.clear();
    await this.running?.catch(() => undefined);
  }

  /** Called where a merge is written inside someone else's transaction: look again once it has committed. */
  announceSoon(): void {
    const kick = setTimeout(() => {
      this.kicks.delete(kick);
      void this.runLogged();
    }, AFTER_COMMIT_DELAY_MS);
    kick.unref();
    this.kicks.add(kick);
  }

  /** Publishes pending merges now, in the background (a failure is logged; the sweep retries). */
  announceNow(): void {
    void this.runLogged();
  }

  /** Publishes every pending merge and unmerge; returns how many events were published. */
  async announcePending(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const published = await this.announceBatch();
      total += published;
      if (published < BATCH) break;
    }
    return total;
  }

  private async runLogged(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = this.announcePending();
    try {
      await this.running;
    } catch (error) {
      this.logger.warn(`Merge events not announced yet, will retry: ${String(error)}`);
    } finally {
      this.running = undefined;
    }
  }

  private async announceBatch(): Promise<number> {
    return this.db.client.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<PendingMerge[]>`
          SELECT id, workspace_id, survivor_id, merged_id, reason, identifier_type, merged_at, announced_at, unmerged_at
          FROM customer_merges
          WHERE announced_at IS NULL OR (unmerged_at IS NOT NULL AND unmerge_announced_at IS NULL)
          ORDER BY merged_at
          LIMIT ${BATCH}
          FOR UPDATE SKIP LOCKED`;
        let published = 0;
        for (const row of rows) {
          if (!row.announced_at) {
            await this.publisher.publish(
              Subjects.identityMerged,
              {
                workspaceId: row.workspace_id,
                survivorId: row.survivor_id,
                mergedIds: [row.merged_id],
                reason: row.reason === 'alias' ? 'alias' : `shared_identifier:${row.identifier_type}`,
                mergeId: row.id,
                mergedAt: row.merged_at.toISOString(),
              },
              { msgId: row.id },
            );
            await tx.customerMerge.update({ where: { id: row.id }, data: { announcedAt: new Date() } });
            published++;
          }
          if (row.unmerged_at) {
            await this.publisher.publish(
              Subjects.identityUnmerged,
              {
                workspaceId: row.workspace_id,
                mergeId: row.id,
                restoredIds: [row.merged_id],
                survivorId: row.survivor_id,
                unmergedAt: row.unmerged_at.toISOString(),
              },
              { msgId: `${row.id}:unmerged` },
            );
            await tx.customerMerge.update({
              where: { id: row.id },
              data: { unmergeAnnouncedAt: new Date() },
            });
            published++;
          }
        }
        return rows.length === BATCH ? Math.max(published, BATCH) : published;
      },
      { timeout: 60_000 },
    );
  }
}
