import { Injectable, Logger } from '@nestjs/common';
import { DatabaseService } from '@cdp/service-kit';
import { LEDGER_COLUMNS, type LedgerRow } from './ledger-row';
import { StatusAnnouncer } from './status-announcer';

/** What the ledger keeps of an erased customer's messages instead of the address. */
export const ERASED_RECIPIENT = '[erased]';
const NOT_SENT = 'the customer was erased before the message was sent; not sent';

/**
 * The ledger's part of a customer's erasure (cdp.customer.erased): messages not sent yet are
 * cancelled, every message loses its address and provider error text (which often quotes the
 * address), and dead letters (which keep the whole job, content and address) are deleted. The
 * rows stay, without personal data, as the record of what was sent when.
 */
@Injectable()
export class CustomerErasure {
  private readonly logger = new Logger(CustomerErasure.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly statuses: StatusAnnouncer,
  ) {}

  async erase(workspaceId: string, customerIds: string[]): Promise<void> {
    const { cancelled, scrubbed, deadLetters } = await this.db.transaction(async (sql) => {
      // A queued row whose job runs later is not claimed (the claim takes only queued rows).
      const cancelled = await sql.execute(
        `UPDATE messages SET status = 'failed', error = $3, updated_at = now()
         WHERE workspace_id = $1 AND customer_id = ANY($2::text[]) AND status = 'queued'`,
        [workspaceId, customerIds, NOT_SENT],
      );
      const scrubbed = await sql.execute(
        `UPDATE messages SET recipient = $3, error = CASE WHEN error = $4 THEN error END, updated_at = now()
         WHERE workspace_id = $1 AND customer_id = ANY($2::text[])
           AND (recipient <> $3 OR (error IS NOT NULL AND error <> $4))`,
        [workspaceId, customerIds, ERASED_RECIPIENT, NOT_SENT],
      );
      const deadLetters = await sql.execute(
        `DELETE FROM dead_letters d USING messages m
         WHERE d.message_id = m.id AND m.workspace_id = $1 AND m.customer_id = ANY($2::text[])`,
        [workspaceId, customerIds],
      );
      return { cancelled, scrubbed, deadLetters };
    });
    // Every cancelled row, on a redelivery too (a publish that failed the first attempt); the
    // status message ids deduplicate what was published already.
    const { rows } = await this.db.pool.query<LedgerRow>(
      `SELECT ${LEDGER_COLUMNS} FROM messages
       WHERE workspace_id = $1 AND customer_id = ANY($2::text[]) AND status = 'failed' AND error = $3`,
      [workspaceId, customerIds, NOT_SENT],
    );
    await this.statuses.announce(rows);
    if (cancelled || scrubbed || deadLetters)
      this.logger.log(
        `erased ${customerIds.length} customer(s) of ${workspaceId}: ${cancelled} messages cancelled, ${scrubbed} addresses removed, ${deadLetters} dead letters deleted`,
      );
  }
}
