import { Inject, Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import { AnnouncedRowsRelay } from '../common/outbox-relay';

interface PendingErasure {
  id: string;
  workspace_id: string;
  customer_id: string;
  customer_code: string;
  erased_ids: string[];
  erased_at: Date;
}

/**
 * Outbox relay of customer_erasures: publishes cdp.customer.erased for rows not announced yet
 * (msgId `customer.erased:<erasure id>`), so other services learn of every committed erasure even
 * when NATS was down when it happened. See {@link AnnouncedRowsRelay}.
 */
@Injectable()
export class ErasureAnnouncer extends AnnouncedRowsRelay<PendingErasure> {
  constructor(
    db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) config: { MERGE_OUTBOX_SWEEP_MS?: number },
  ) {
    super(
      db,
      {
        name: 'customer_erasures',
        columns: 'workspace_id, customer_id, customer_code, erased_ids, erased_at',
        orderBy: 'erased_at',
      },
      config.MERGE_OUTBOX_SWEEP_MS ?? 5000,
      'Erasure events',
    );
  }

  protected publishRow(row: PendingErasure) {
    return this.publisher.publish(
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
  }
}
