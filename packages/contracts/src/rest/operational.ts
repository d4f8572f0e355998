import { Type, type Static } from '@sinclair/typebox';
import { Channel, JOURNEY_STAGES, Json, oneOf } from '../payloads/common';

/** Which customer a record from an operational system belongs to: our id or any identifier. */
export const CustomerRef = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    identifier: Type.Optional(
      Type.Object(
        {
          type: Type.String({ minLength: 1, maxLength: 64 }),
          value: Type.String({ minLength: 1, maxLength: 512 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'Give `id` or `identifier`' },
);
export type CustomerRef = Static<typeof CustomerRef>;

const Money = Type.String({
  pattern: '^-?\\d{1,16}(\\.\\d{1,4})?$',
  description: 'Decimal amount as a string, e.g. "1250.00"',
});
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });
const Ref = Type.String({ minLength: 1, maxLength: 200 });
const When = Type.String({ format: 'date-time' });

export const ContractRecord = Type.Object(
  {
    customer: CustomerRef,
    sourceSystem: Ref,
    externalRef: Ref,
    productCode: Type.String({ minLength: 1, maxLength: 100 }),
    productName: Type.String({ minLength: 1, maxLength: 300 }),
    productType: oneOf(['deposit', 'loan', 'card', 'insurance', 'investment', 'other'] as const),
    status: Type.Optional(oneOf(['active', 'closed', 'lapsed'] as const)),
    amount: Type.Optional(Money),
    currency: Type.Optional(Currency),
    openedAt: When,
    maturesAt: Type.Optional(When),
    closedAt: Type.Optional(When),
    attributes: Type.Optional(Json),
  },
  { additionalProperties: false },
);
export type ContractRecord = Static<typeof ContractRecord>;

export const TransactionRecord = Type.Object(
  {
    customer: CustomerRef,
    sourceSystem: Ref,
    externalRef: Ref,
    contractRef: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'externalRef of the contract in the same source system',
      }),
    ),
    kind: oneOf(['deposit', 'withdrawal', 'payment', 'transfer', 'fee', 'claim'] as const),
    amount: Money,
    currency: Currency,
    channel: Type.Optional(Channel),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    occurredAt: When,
  },
  { additionalProperties: false },
);
export type TransactionRecord = Static<typeof TransactionRecord>;

export const ConsultationRecord = Type.Object(
  {
    customer: CustomerRef,
    sourceSystem: Ref,
    externalRef: Ref,
    channel: Channel,
    topic: Type.String({ minLength: 1, maxLength: 300 }),
    summary: Type.Optional(Type.String({ maxLength: 5000 })),
    agentRef: Type.Optional(Type.String({ maxLength: 200 })),
    outcome: Type.Optional(Type.String({ maxLength: 200 })),
    durationSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    occurredAt: When,
  },
  { additionalProperties: false },
);
export type ConsultationRecord = Static<typeof ConsultationRecord>;

/** Operational systems send records in batches of up to 1,000; each is upserted by (sourceSystem, externalRef). */
export const recordBatch = <T extends ReturnType<typeof Type.Object>>(record: T) =>
  Type.Object(
    { records: Type.Array(record, { minItems: 1, maxItems: 1000 }) },
    { additionalProperties: false },
  );

export const LifecycleRule = Type.Object(
  {
    toStage: oneOf(['prospect', 'contracted'] as const),
    eventNames: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 100 })),
    journeyStages: Type.Optional(Type.Array(oneOf(JOURNEY_STAGES), { maxItems: 4 })),
  },
  {
    additionalProperties: false,
    description: 'Moves a customer forward when an event has one of the names or journey stages',
  },
);
export const LifecycleRules = Type.Object(
  { rules: Type.Array(LifecycleRule, { maxItems: 50 }) },
  { additionalProperties: false },
);
export type LifecycleRules = Static<typeof LifecycleRules>;

export const DeviceTokenRegistration = Type.Object(
  {
    platform: oneOf(['ios', 'android', 'web'] as const),
    provider: oneOf(['fcm', 'apns'] as const),
    token: Type.String({ minLength: 8, maxLength: 4096 }),
    appId: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type DeviceTokenRegistration = Static<typeof DeviceTokenRegistration>;

export const WebPushSubscriptionRegistration = Type.Object(
  {
    endpoint: Type.String({ pattern: '^https://', maxLength: 2048 }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: Type.Object(
      {
        p256dh: Type.String({ minLength: 40, maxLength: 200 }),
        auth: Type.String({ minLength: 16, maxLength: 64 }),
      },
      { additionalProperties: false },
    ),
    userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  {
    additionalProperties: false,
    description: 'A browser PushSubscription as JSON (PushSubscription.toJSON())',
  },
);
export type WebPushSubscriptionRegistration = Static<typeof WebPushSubscriptionRegistration>;
