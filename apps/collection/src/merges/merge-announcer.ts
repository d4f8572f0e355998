import { Inject, Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { prismaSql } from '@cdp/db';
import { JetStreamPublisher, type PublishItem } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import { OUTBOX_BATCH, OutboxRelay } from '../common/outbox-relay';
import { asObject } from '../identity/national-id';
import { profileStates, profileUpdate } from '../profiles/profile-updates';

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
  survivor_changes: { traits?: Record<string, unknown> } | null;
}

/**
 * Outbox relay of customer_merges: publishes cdp.identity.merged / cdp.identity.unmerged for rows
 * not announced yet and marks them (msgId: the merge id, `<merge id>:unmerged`). Each is followed
 * by cdp.profile.updated of the customers whose profile it changed, as they stand: the survivor of
 * a merge (naming the traits it took), the survivor and the restored customer of an unmerge (msgId
 * `profile:<customer>:merge|unmerge:<merge id>`). Runs right after a merge commits and every
 * MERGE_OUTBOX_SWEEP_MS (see {@link OutboxRelay}).
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
          SELECT id, workspace_id, survivor_id, merged_id, reason, identifier_type, merged_at, announced_at,
            unmerged_at, survivor_changes
          FROM customer_merges
          WHERE announced_at IS NULL OR (unmerged_at IS NOT NULL AND unmerge_announced_at IS NULL)
          ORDER BY merged_at
          LIMIT ${OUTBOX_BATCH}
          FOR UPDATE SKIP LOCKED`;
        const states = await profileStates(
          prismaSql(tx),
          rows.flatMap((row) => [row.survivor_id, row.merged_id]),
        );
        const profileUpdates: PublishItem[] = [];
        const profileChanged = (customerId: string, traits: string[], change: string) => {
          const state = states.get(customerId);
          if (state) profileUpdates.push(profileUpdate(state, traits, `profile:${customerId}:${change}`));
        };
        let published = 0;
        for (const row of rows) {
          const takenTraits = Object.keys(row.survivor_changes?.traits ?? {});
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
            profileChanged(row.survivor_id, takenTraits, `merge:${row.id}`);
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
            profileChanged(row.survivor_id, takenTraits, `unmerge:${row.id}`);
            const restored = states.get(row.merged_id);
            profileChanged(row.merged_id, Object.keys(asObject(restored?.traits)), `unmerge:${row.id}`);
            published++;
          }
        }
        await this.publisher.publishMany(profileUpdates);
        return rows.length === OUTBOX_BATCH ? Math.max(published, OUTBOX_BATCH) : published;
      },
      { timeout: 60_000 },
    );
  }
}
