import { Type, type Static } from '@sinclair/typebox';

/** A workspace's retention of its interaction history (`GET/PUT /v1/retention`). */
export const RetentionPolicy = Type.Object(
  {
    eventRetentionDays: Type.Union(
      [
        Type.Integer({
          minimum: 1,
          maximum: 36_500,
          description: 'Days interaction events are kept, counted from when they were received',
        }),
        Type.Literal(0, { description: 'Events are kept forever' }),
      ],
      { description: 'Days events are kept (1-36500), or 0: forever' },
    ),
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
