import { oneOf } from './common';
import { Type, type Static } from '@sinclair/typebox';
import { CustomerId, DeliveryChannel, Json, Timestamp, payload } from './common';

export const DeliveryRequestedV1 = payload(
  {
    idempotencyKey: Type.String({
      minLength: 1,
      maxLength: 512,
      description: 'campaign run : customer : channel : step',
    }),
    campaignId: Type.Optional(Type.String()),
    campaignRunId: Type.Optional(Type.String()),
    step: Type.Optional(Type.String()),
    customerId: CustomerId,
    channel: DeliveryChannel,
    recipient: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'Address for the channel: email, E.164 phone, token, URL',
    }),
    locale: Type.Optional(
      Type.String({ description: 'Preferred locale; with templateId, the variant to render' }),
    ),
    templateId: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A stored template (any locale variant of it); the variant of `locale` is used, else its language, else the fallback locale. Either this or `template`',
      }),
    ),
    template: Type.Optional(
      Type.Object(
        {
          subject: Type.Optional(Type.String()),
          body: Type.String(),
          html: Type.Optional(Type.String()),
        },
        { additionalProperties: false, description: 'Inline template source; either this or `templateId`' },
      ),
    ),
    variables: Json,
    requestedAt: Timestamp,
  },
  'Send one message to one customer through one channel',
);

/** What can happen to a message after it was requested; each is final for the ledger's send. */
export const DELIVERY_STATUSES = [
  'sent',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'failed',
  'unknown',
] as const;

export const DeliveryStatusV1 = payload(
  {
    idempotencyKey: Type.String(),
    messageId: Type.String({ description: 'Delivery ledger id of the message' }),
    campaignId: Type.Optional(Type.String()),
    customerId: CustomerId,
    channel: DeliveryChannel,
    status: oneOf(DELIVERY_STATUSES),
    provider: Type.Optional(Type.String()),
    providerMessageId: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
    recipientGone: Type.Optional(
      Type.Boolean({
        description:
          'The provider says the address will never work again (a push token no longer registered, a browser subscription gone): senders should stop using it',
      }),
    ),
    recipient: Type.Optional(
      Type.String({ description: 'The address that is gone (with recipientGone only)' }),
    ),
    at: Timestamp,
  },
  'What happened to a message; "sent" means the provider accepted it, not that it was delivered',
);

export const CONSENT_PURPOSES = ['marketing', 'profiling', 'third_party_sharing'] as const;
/** Channels a consent applies to; `any` covers every channel. */
export const CONSENT_CHANNELS = ['email', 'sms', 'push', 'phone', 'post', 'any'] as const;

/** The fields a consent change and a consent as it stands share. */
export const ConsentFields = {
  purpose: oneOf(CONSENT_PURPOSES, { description: 'What the consent is for' }),
  channel: oneOf(CONSENT_CHANNELS, { description: 'Channel the consent applies to; any: every channel' }),
  status: Type.Union([Type.Literal('granted'), Type.Literal('withdrawn')]),
  expiresAt: Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        'For a grant: when it lapses unless renewed (e.g. marketing consent reconfirmed every two years); absent: no end',
    }),
  ),
};

/** One consent of a customer as it stands (the latest change per purpose and channel). */
export const ConsentState = Type.Object(ConsentFields, { additionalProperties: false });
export type ConsentState = Static<typeof ConsentState>;

export const ConsentChangedV1 = payload(
  {
    customerId: CustomerId,
    ...ConsentFields,
    source: Type.String({
      description: 'Where the change came from (unsubscribe link, preference centre, branch ...)',
    }),
    at: Timestamp,
    evidence: Type.Optional(Json),
  },
  'A customer granted or withdrew consent for a purpose and channel',
);
