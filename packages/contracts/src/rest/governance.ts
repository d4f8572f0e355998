import { Type, type Static } from '@sinclair/typebox';

// One integer range, not a union with 0, so a bad value gets the range as its reason.
const retentionDays = (description: string) => Type.Integer({ minimum: 0, maximum: 36_500, description });
const EVENT_RETENTION = 'Days interaction events are kept, counted from when they were received; 0: forever';
const INACTIVE_CUSTOMER_RETENTION =
  'Days a customer is kept after last seen when they hold no active contract and have no retention date of their own; then erased (not suppressed). 0: never for inactivity';

/** A workspace's retention policy (`GET /v1/retention`). */
export const RetentionPolicy = Type.Object(
  {
    eventRetentionDays: retentionDays(EVENT_RETENTION),
    inactiveCustomerRetentionDays: retentionDays(INACTIVE_CUSTOMER_RETENTION),
  },
  { additionalProperties: false },
);
export type RetentionPolicy = Static<typeof RetentionPolicy>;

/** A change of the retention policy (`PUT /v1/retention`): the fields given change, the others stay. */
export const RetentionPolicyChange = Type.Object(
  {
    eventRetentionDays: Type.Optional(retentionDays(EVENT_RETENTION)),
    inactiveCustomerRetentionDays: Type.Optional(retentionDays(INACTIVE_CUSTOMER_RETENTION)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type RetentionPolicyChange = Static<typeof RetentionPolicyChange>;

/** When one customer's personal data must be disposed of (`PUT /v1/customers/:id/retention`). */
export const CustomerRetention = Type.Object(
  {
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description:
        'The customer is erased once this time has passed (e.g. the end of a contract plus the legal retention period); null: no date',
    }),
  },
  { additionalProperties: false },
);
export type CustomerRetention = Static<typeof CustomerRetention>;

/** Stop collecting a live customer's tracking calls without erasing them (`POST /v1/suppressions`). */
export const SuppressCustomerRequest = Type.Object(
  {
    customerId: Type.String({
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
      description: 'The customer, a UUID (a merged id stands for its survivor)',
    }),
  },
  { additionalProperties: false },
);
export type SuppressCustomerRequest = Static<typeof SuppressCustomerRequest>;
