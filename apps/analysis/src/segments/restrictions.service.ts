import { Injectable, Logger } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';

type Restricted = PayloadOf<typeof Subjects.customerRestricted>;

/**
 * Restriction of processing (cdp.customer.restricted, e.g. a GDPR art. 18 request): while it lasts
 * analysis neither segments nor scores the customer (their events and changes are passed over),
 * and they leave every segment they were in (cdp.segment.exited, cause `restricted`), so no
 * subscriber of the segment subjects or reader of the members keeps using them. Lifting it gives
 * those memberships back (cdp.segment.entered, cause `restriction lifted`).
 */
@Injectable()
export class RestrictionsService {
  private readonly logger = new Logger(RestrictionsService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  /**
   * The items (events, changes) of customers whose processing is not restricted now. Those of a
   * restricted customer are passed over for good: lifting the restriction does not analyse them
   * afterwards (collection's replay can send them again).
   */
  async withoutRestricted<T extends { customerId: string }>(items: readonly T[]): Promise<readonly T[]> {
    if (!items.length) return items;
    const { rows } = await this.db.pool.query<{ customerId: string }>(
      `SELECT customer_id AS "customerId" FROM restricted_customers WHERE customer_id = ANY($1::text[]) AND restricted`,
      [[...new Set(items.map((i) => i.customerId))]],
    );
    if (!rows.length) return items;
    const restricted = new Set(rows.map((r) => r.customerId));
    return items.filter((i) => !restricted.has(i.customerId));
  }

  /**
   * Records the change unless a later one is recorded (a redelivery of the same change applies
   * again, so a crash half-way is finished), then ends or gives back the customer's memberships:
   * announced first, with a Nats-Msg-Id tied to the membership and the change, then written.
   */
  async onRestricted(change: Restricted): Promise<void> {
    const { rowCount } = await this.db.pool.query(
      `INSERT INTO restricted_customers (customer_id, workspace_id, restricted, changed_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (customer_id) DO UPDATE SET restricted = excluded.restricted, changed_at = excluded.changed_at
      WHERE restricted_customers.changed_at <= excluded.changed_at`,
      [change.customerId, change.workspaceId, change.restricted, change.changedAt],
    );
    if (!rowCount) return; // older than the change recorded: overtaken
    const { rows } = await this.db.pool.query<{ segmentId: string; segmentName: string; enteredAt: Date }>(
      `SELECT m.segment_id AS "segmentId", s.name AS "segmentName", m.entered_at AS "enteredAt"
      FROM segment_memberships m JOIN segments s ON s.id = m.segment_id
      WHERE m.customer_id = $1 AND ${change.restricted ? 'm.exited_at IS NULL' : 'm.ended_by_restriction'}`,
      [change.customerId],
    );
    if (!rows.length) return;
    const subject = change.restricted ? Subjects.segmentExited : Subjects.segmentEntered;
    await this.publisher.publishMany(
      rows.map((m) => ({
        subject,
        payload: {
          workspaceId: change.workspaceId,
          segmentId: m.segmentId,
          segmentName: m.segmentName,
          customerId: change.customerId,
          at: change.changedAt,
          cause: change.restricted ? 'restricted' : 'restriction lifted',
        },
        msgId: `${subject.name}:${m.segmentId}:${change.customerId}:restriction:${change.changedAt}`,
      })),
    );
    await this.db.pool.query(
      change.restricted
        ? `UPDATE segment_memberships SET exited_at = $2, ended_by_restriction = true
          WHERE customer_id = $1 AND exited_at IS NULL`
        : `UPDATE segment_memberships SET entered_at = $2, exited_at = NULL, ended_by_restriction = false
          WHERE customer_id = $1 AND ended_by_restriction`,
      [change.customerId, change.changedAt],
    );
    this.logger.log(
      `customer ${change.customerId} ${change.restricted ? 'restricted: left' : 'no longer restricted: back in'} ${rows.length} segment(s)`,
    );
  }
}
