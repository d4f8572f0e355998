import { Inject, Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import { OUTBOX_BATCH, OutboxRelay } from '../common/outbox-relay';

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

/**
 * Outbox relay of customer_merges: publishes cdp.identity.merged / cdp.identity.unmerged for rows
 * not announced yet and marks them (msgId: the merge id, `<merge id>:unmerged`). Runs right after a
 * merge commits and every MERGE_OUTBOX_SWEEP_MS (see {@link OutboxRelay}).
 */
@Injectable()
export class MergeAnnouncer extends OutboxRelay {
  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) config: { MERGE_OUTBOX_SWEEP_MS?: number },
  ) {
    super(config.MERGE_OUTBOX_SWEEP_MS ?? 5000, 'Merge events');
  }

  protected async announceBatch(): Promise<number> {
    return this.db.client.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<PendingMerge[]>`
          SELECT id, workspace_id, survivor_id, merged_id, reason, identifier_type, merged_at, announced_at, unmerged_at
          FROM customer_merges
          WHERE announced_at IS NULL OR (unmerged_at IS NOT NULL AND unmerge_announced_at IS NULL)
          ORDER BY merged_at
          LIMIT ${OUTBOX_BATCH}
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
        return rows.length === OUTBOX_BATCH ? Math.max(published, OUTBOX_BATCH) : published;
      },
      { timeout: 60_000 },
    );
  }
}
