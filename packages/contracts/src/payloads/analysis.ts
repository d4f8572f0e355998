import { Type } from '@sinclair/typebox';
import { CustomerId, Timestamp, payload } from './common';

const membership = {
  segmentId: Type.String(),
  segmentName: Type.String(),
  customerId: CustomerId,
  at: Timestamp,
  cause: Type.Optional(
    Type.String({ description: 'What moved the customer (event message id, profile update, re-evaluation)' }),
  ),
};

export const SegmentEnteredV1 = payload(membership, 'A customer entered a segment');
export const SegmentExitedV1 = payload(membership, 'A customer left a segment');

export const ScoreUpdatedV1 = payload(
  {
    customerId: CustomerId,
    model: Type.String(),
    modelVersion: Type.String(),
    value: Type.Number(),
    previousValue: Type.Optional(Type.Number()),
    computedAt: Timestamp,
  },
  'A customer score (value, propensity, churn ...) was computed',
);

export const CustomerSegmentsRequestV1 = payload(
  { customerId: CustomerId },
  "A customer's current segments (memberships follow merges: ask with the live customer's id)",
);

export const CustomerSegmentsReplyV1 = Type.Object(
  {
    segments: Type.Array(
      Type.Object(
        { segmentId: Type.String(), name: Type.String(), enteredAt: Timestamp },
        { additionalProperties: false },
      ),
    ),
    scores: Type.Optional(
      Type.Array(
        Type.Object(
          { model: Type.String(), modelVersion: Type.String(), value: Type.Number(), computedAt: Timestamp },
          { additionalProperties: false },
        ),
        { description: "The customer's latest score by each model (absent from older analysis versions)" },
      ),
    ),
  },
  { description: 'The segments the customer is a member of, newest entry first, and their scores' },
);
