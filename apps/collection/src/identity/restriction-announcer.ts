import { Inject, Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import { OUTBOX_BATCH, OutboxRelay } from '../common/outbox-relay';

interface PendingRestriction {
  id: string;
  workspace_id: string;
  customer_id: string;
  customer_code: string;
  restricted: boolean;
  changed_at: Date;
}

/**
 * Outbox relay of customer_restrictions: publishes cdp.customer.restricted for rows not announced
 * yet and marks them (msgId `customer.restricted:<id>`), so other services learn of every committed
 * change even when NATS was down when it happened. See {@link OutboxRelay}.
 */
@Injectable()
export class RestrictionAnnouncer extends OutboxRelay {
  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) config: { MERGE_OUTBOX_SWEEP_MS?: number },
  ) {
    super(config.MERGE_OUTBOX_SWEEP_MS ?? 5000, 'Restriction events');
  }

  protected async announceBatch(): Promise<number> {
    return this.db.client.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<PendingRestriction[]>`
          SELECT id, workspace_id, customer_id, customer_code, restricted, changed_at
          FROM customer_restrictions WHERE announced_at IS NULL
          ORDER BY changed_at
          LIMIT ${OUTBOX_BATCH}
          FOR UPDATE SKIP LOCKED`;
        for (const row of rows) {
          await this.publisher.publish(
            Subjects.customerRestricted,
            {
              workspaceId: row.workspace_id,
              customerId: row.customer_id,
              customerCode: row.customer_code,
              restricted: row.restricted,
              changedAt: row.changed_at.toISOString(),
            },
            { msgId: `customer.restricted:${row.id}` },
          );
          await tx.customerRestriction.update({ where: { id: row.id }, data: { announcedAt: new Date() } });
        }
        return rows.length;
      },
      { timeout: 60_000 },
    );
  }
}
