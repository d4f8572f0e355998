import type { Message } from '@cdp/db';

/** The ledger columns the send path reads (raw SQL reads back just these). */
export type LedgerRow = Pick<
  Message,
  | 'id'
  | 'workspaceId'
  | 'idempotencyKey'
  | 'campaignId'
  | 'customerId'
  | 'channel'
  | 'recipient'
  | 'status'
  | 'provider'
  | 'providerMessageId'
  | 'error'
  | 'attempts'
  | 'sentAt'
  | 'updatedAt'
  | 'sendJobId'
>;
export const LEDGER_COLUMNS = `id, workspace_id AS "workspaceId", idempotency_key AS "idempotencyKey",
  campaign_id AS "campaignId", customer_id AS "customerId", channel::text AS channel, recipient,
  status::text AS status, provider, provider_message_id AS "providerMessageId", error, attempts,
  sent_at AS "sentAt", updated_at AS "updatedAt", send_job_id AS "sendJobId"`;
