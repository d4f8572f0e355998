import { LifecycleStage, oneOf } from '../payloads/common';
import { Type, type Static } from '@sinclair/typebox';

/** How a value is compared: every op but `exists` needs a `value`. */
const comparison = {
  op: oneOf(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists'] as const),
  value: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
};

export const PropertyFilter = Type.Object(
  {
    property: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Dot path into the event properties, e.g. "product.code"',
    }),
    ...comparison,
  },
  { additionalProperties: false },
);
export type PropertyFilter = Static<typeof PropertyFilter>;

/**
 * Real-time segment rules. `event` matches a customer who performed the named event (optionally
 * with property filters), evaluated on each stored event; membership, once entered, is kept. With
 * `atLeast`, the customer must have performed it that many times; with `withinDays`, that many
 * times within the last so many days, and membership follows the count: the customer exits once
 * too few of their events are left in the window.
 * `lifecycle` matches a customer in the given lifecycle stage, and `trait` one whose trait (a dot
 * path into the profile's traits) compares as given, both evaluated on each change of the profile
 * (cdp.profile.updated): the customer enters when they come to match and exits when they no longer
 * do. They can be mixed under `any`.
 * `score` matches a customer whose latest score by `model` (e.g. `customer_value`) is at least
 * `gte` and below `lt` (one of them at least), evaluated on each cdp.score.updated: entry and
 * exit follow the score. `any` matches when one of its conditions does, `all` when every one
 * does (an event condition under `all` counts the customer's matching events, so "did A and did
 * B" holds whichever came first); a segment's conditions are all of one kind (events, events
 * within a window, the profile, or scores).
 */
export const SegmentCondition = Type.Recursive(
  (Self) =>
    Type.Union([
      Type.Object(
        {
          type: Type.Literal('event'),
          name: Type.Union(
            [
              Type.String({ minLength: 1, maxLength: 512 }),
              Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 50 }),
            ],
            {
              description:
                'The event name, or several: an event of any of them matches (and counts towards atLeast)',
            },
          ),
          where: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })),
          atLeast: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 10_000,
              description: 'Matching events the customer must have performed (default 1)',
            }),
          ),
          withinDays: Type.Optional(
            Type.Integer({
              minimum: 1,
              maximum: 365,
              description:
                'Count only the events of the last so many days (by the event time): the customer exits when the count falls below atLeast',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      Type.Object(
        { type: Type.Literal('lifecycle'), stage: LifecycleStage },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          type: Type.Literal('trait'),
          trait: Type.String({
            minLength: 1,
            maxLength: 256,
            description: 'Dot path into the customer\'s traits, e.g. "plan" or "address.city"',
          }),
          ...comparison,
        },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          type: Type.Literal('score'),
          model: Type.String({ minLength: 1, maxLength: 100 }),
          gte: Type.Optional(Type.Number({ description: 'The score is at least this' })),
          lt: Type.Optional(Type.Number({ description: 'The score is below this' })),
        },
        { additionalProperties: false },
      ),
      Type.Object(
        { type: Type.Literal('any'), conditions: Type.Array(Self, { minItems: 1, maxItems: 20 }) },
        { additionalProperties: false },
      ),
      Type.Object(
        { type: Type.Literal('all'), conditions: Type.Array(Self, { minItems: 1, maxItems: 20 }) },
        { additionalProperties: false },
      ),
    ]),
  { $id: 'SegmentCondition' },
);
export type SegmentCondition = Static<typeof SegmentCondition>;

export const CreateSegmentRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    definition: SegmentCondition,
  },
  { additionalProperties: false },
);
export type CreateSegmentRequest = Static<typeof CreateSegmentRequest>;
