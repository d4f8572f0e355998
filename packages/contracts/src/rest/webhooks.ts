import { Type, type Static } from '@sinclair/typebox';
import { oneOf } from '../payloads/common';

/** Where a field's value comes from: a dot path into the webhook payload (`lead.email`, `items.0.id`) or a constant. */
export const FieldSpec = Type.Union([
  Type.Object({ path: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
  Type.Object(
    { const: Type.Union([Type.String(), Type.Number(), Type.Boolean()]) },
    { additionalProperties: false },
  ),
]);
export type FieldSpec = Static<typeof FieldSpec>;

const FieldMap = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), FieldSpec);

/**
 * Turns any JSON webhook (an ad platform's lead or response events, a partner system) into
 * Segment calls. `items` names an array in the payload: one call per element, paths relative to it.
 */
export const WebhookMapping = Type.Object(
  {
    type: oneOf(['track', 'identify'] as const),
    items: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    messageId: Type.Optional(FieldSpec),
    userId: Type.Optional(FieldSpec),
    anonymousId: Type.Optional(FieldSpec),
    event: Type.Optional(FieldSpec),
    timestamp: Type.Optional(FieldSpec),
    properties: Type.Optional(FieldMap),
    traits: Type.Optional(FieldMap),
    context: Type.Optional(FieldMap),
  },
  { additionalProperties: false },
);
export type WebhookMapping = Static<typeof WebhookMapping>;

export const WebhookPreviewRequest = Type.Object(
  { mapping: Type.Optional(WebhookMapping), payload: Type.Unknown() },
  { additionalProperties: false },
);
