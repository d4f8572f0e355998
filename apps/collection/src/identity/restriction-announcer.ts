import { Inject, Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import { AnnouncedRowsRelay } from '../common/outbox-relay';

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
 * yet (msgId `customer.restricted:<id>`), so other services learn of every committed change even
 * when NATS was down when it happened. See {@link AnnouncedRowsRelay}.
 */
@Injectable()
export class RestrictionAnnouncer extends AnnouncedRowsRelay<PendingRestriction> {
  constructor(
    db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) config: { MERGE_OUTBOX_SWEEP_MS?: number },
  ) {
    super(
      db,
      {
        name: 'customer_restrictions',
        columns: 'workspace_id, customer_id, customer_code, restricted, changed_at',
        orderBy: 'changed_at',
      },
      config.MERGE_OUTBOX_SWEEP_MS ?? 5000,
      'Restriction events',
    );
  }

  protected publishRow(row: PendingRestriction) {
    return this.publisher.publish(
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
  }
}
