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
