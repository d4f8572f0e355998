import { Type, type Static } from '@sinclair/typebox';

/** A workspace's retention of its interaction history (`GET/PUT /v1/retention`). */
export const RetentionPolicy = Type.Object(
  {
    // One integer range, not a union with 0, so a bad value gets the range as its reason.
    eventRetentionDays: Type.Integer({
      minimum: 0,
      maximum: 36_500,
      description: 'Days interaction events are kept, counted from when they were received; 0: forever',
    }),
  },
  { additionalProperties: false },
);
export type RetentionPolicy = Static<typeof RetentionPolicy>;

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
