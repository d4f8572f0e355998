import type { DeliveryChannel } from '@cdp/contracts';
import type { Static } from '@sinclair/typebox';

export type ChannelName = Static<typeof DeliveryChannel>;

/** One rendered message for one recipient, ready for a provider. */
export interface OutboundMessage {
  /** Delivery ledger id; also the provider's idempotency key where the provider has one. */
  messageId: string;
  idempotencyKey: string;
  workspaceId: string;
  customerId: string;
  channel: ChannelName;
  /** Address for the channel: email address, E.164 phone, device token, push subscription JSON, URL. */
  recipient: string;
  subject?: string;
  text: string;
  html?: string;
  /** Structured payload (push data, webhook body fields). */
  data?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface SendResult {
  provider: string;
  providerMessageId: string;
  /** Provider's answer, for the ledger (SMTP reply line, HTTP status). */
  response?: string;
}

/**
 * A send that did not go through. `permanent` ones (bad address, 4xx validation, 5xx SMTP reply)
 * must never be retried; transient ones (connection refused, timeouts, 429, 5xx HTTP) may be.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

/**
 * The provider says the address will never work again (a push token no longer registered, a
 * browser subscription gone): the message fails for good, and its status tells senders to drop
 * the address.
 */
export class RecipientGoneError extends SendError {
  constructor(message: string) {
    super(message, true);
    this.name = 'RecipientGoneError';
  }
}

/** A provider of one channel (SMTP, SendGrid, Twilio, Web Push, FCM, webhook ...). */
export interface ChannelAdapter {
  readonly channel: ChannelName;
  readonly provider: string;
  /**
   * How many sends the adapter really performs at once (an SMTP pool's connections), if limited.
   * The messages claimed for it and not yet sent stay within a small multiple of this number, so a
   * crash finds few of them `sending` (unknown) that were in fact still waiting for a connection.
   */
  readonly parallelism?: number;
  /**
   * Whether a receipt of this provider may name a message only by the provider's id (a DSN, a
   * SendGrid event without our custom argument, a Twilio callback sent to a URL that is not ours).
   * Only then does a sent message get a look-up row in message_provider_ids, a write per message.
   */
  readonly receiptsByProviderId: boolean;
  send(message: OutboundMessage): Promise<SendResult>;
}
