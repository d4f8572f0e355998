import type { PayloadOf, Subjects } from '@cdp/contracts';
import type { Message } from '@cdp/db';

type DeliveryStatus = PayloadOf<typeof Subjects.deliveryStatus>;

/** The ledger columns a cdp.delivery.status is built from. */
export type StatusSource = Pick<
  Message,
  | 'id'
  | 'workspaceId'
  | 'idempotencyKey'
  | 'campaignId'
  | 'customerId'
  | 'channel'
  | 'provider'
  | 'providerMessageId'
>;

/**
 * What a cdp.delivery.status says of a ledger row: the status it reached, why, and when; with
 * `goneRecipient`, that the provider said this address will never work again.
 */
export function deliveryStatusOf(
  message: StatusSource,
  status: DeliveryStatus['status'],
  reason: string | null | undefined,
  at: Date,
  goneRecipient?: string,
): DeliveryStatus {
  return {
    workspaceId: message.workspaceId,
    idempotencyKey: message.idempotencyKey,
    messageId: message.id,
    ...(message.campaignId && { campaignId: message.campaignId }),
    customerId: message.customerId,
    channel: message.channel,
    status,
    ...(message.provider && { provider: message.provider }),
    ...(message.providerMessageId && { providerMessageId: message.providerMessageId }),
    ...(reason && { reason }),
    ...(goneRecipient !== undefined && { recipientGone: true, recipient: goneRecipient }),
    at: at.toISOString(),
  };
}
