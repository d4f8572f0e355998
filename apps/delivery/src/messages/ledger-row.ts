import type { Message } from '@cdp/db';
import type { StatusSource } from './delivery-status';

/** The ledger columns the send path reads (raw SQL reads back just these). */
export type LedgerRow = StatusSource &
  Pick<Message, 'recipient' | 'status' | 'error' | 'attempts' | 'sentAt' | 'updatedAt' | 'sendJobId'>;
export const LEDGER_COLUMNS = `id, workspace_id AS "workspaceId", idempotency_key AS "idempotencyKey",
  campaign_id AS "campaignId", customer_id AS "customerId", channel::text AS channel, recipient,
  status::text AS status, provider, provider_message_id AS "providerMessageId", error, attempts,
  sent_at AS "sentAt", updated_at AS "updatedAt", send_job_id AS "sendJobId"`;
