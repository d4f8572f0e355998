import { Type, type Static } from '@sinclair/typebox';
import { Json } from '../payloads/common';

/** Segment HTTP tracking API (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/). */
const MAX_ID = 512;
const common = {
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  userId: Type.Optional(Type.Union([Type.String({ maxLength: MAX_ID }), Type.Number()])),
  anonymousId: Type.Optional(Type.Union([Type.String({ maxLength: MAX_ID }), Type.Number()])),
  context: Type.Optional(Json),
  integrations: Type.Optional(Json),
  timestamp: Type.Optional(Type.String({ format: 'date-time' })),
  sentAt: Type.Optional(Type.String({ format: 'date-time' })),
  originalTimestamp: Type.Optional(Type.String({ format: 'date-time' })),
  writeKey: Type.Optional(Type.String()),
};

export const TrackCall = Type.Object(
  {
    ...common,
    type: Type.Optional(Type.Literal('track')),
    event: Type.String({ minLength: 1, maxLength: 512 }),
    properties: Type.Optional(Json),
  },
  { description: 'Segment track call: something the customer did' },
);
export type TrackCall = Static<typeof TrackCall>;

export const IdentifyCall = Type.Object(
  { ...common, type: Type.Optional(Type.Literal('identify')), traits: Type.Optional(Json) },
  { description: 'Segment identify call: who the customer is' },
);
export type IdentifyCall = Static<typeof IdentifyCall>;

export const TrackingResponse = Type.Object({ success: Type.Boolean() });
