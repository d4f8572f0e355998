import { Inject, Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import { OUTBOX_BATCH, OutboxRelay } from '../common/outbox-relay';

interface PendingErasure {
  id: string;
  workspace_id: string;
  customer_id: string;
  customer_code: string;
  erased_ids: string[];
  erased_at: Date;
}

/**
 * Outbox relay of customer_erasures: publishes cdp.customer.erased for rows not announced yet and
 * marks them (msgId `customer.erased:<erasure id>`), so other services learn of every committed
 * erasure even when NATS was down when it happened. See {@link OutboxRelay}.
 */
@Injectable()
export class ErasureAnnouncer extends OutboxRelay {
  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) config: { MERGE_OUTBOX_SWEEP_MS?: number },
  ) {
    super(config.MERGE_OUTBOX_SWEEP_MS ?? 5000, 'Erasure events');
  }

  protected async announceBatch(): Promise<number> {
    return this.db.client.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<PendingErasure[]>`
          SELECT id, workspace_id, customer_id, customer_code, erased_ids, erased_at
          FROM customer_erasures WHERE announced_at IS NULL
          ORDER BY erased_at
          LIMIT ${OUTBOX_BATCH}
          FOR UPDATE SKIP LOCKED`;
        for (const row of rows) {
          await this.publisher.publish(
            Subjects.customerErased,
            {
              workspaceId: row.workspace_id,
              customerId: row.customer_id,
              customerCode: row.customer_code,
              erasedIds: row.erased_ids,
              erasedAt: row.erased_at.toISOString(),
            },
            { msgId: `customer.erased:${row.id}` },
          );
          await tx.customerErasure.update({ where: { id: row.id }, data: { announcedAt: new Date() } });
        }
        return rows.length;
      },
      { timeout: 60_000 },
    );
  }
}
