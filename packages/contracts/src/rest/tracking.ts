import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Json } from '../payloads/common';

/**
 * Segment HTTP tracking API (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/):
 * identify, track, page, screen, group, alias, and batch (alias import) with a list of those calls.
 */
const MAX_ID = 512;
const MAX_NAME = 512;
/** Ids go into the Nats-Msg-Id header, which cannot hold control characters. */
const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001f\\u007f]+$';

export const TRACKING_CALL_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type TrackingCallType = (typeof TRACKING_CALL_TYPES)[number];

const Id = Type.Union([Type.String({ maxLength: MAX_ID }), Type.Number()]);
const DateTime = Type.String({ format: 'date-time' });

/** The context fields the collection reads; any other field is kept as sent. */
export const TrackingContext = Type.Object(
  {
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    userAgent: Type.Optional(Type.String({ maxLength: 2048 })),
    library: Type.Optional(
      Type.Object({
        name: Type.Optional(Type.String({ maxLength: 256 })),
        version: Type.Optional(Type.String({ maxLength: 64 })),
      }),
    ),
    device: Type.Optional(
      Type.Object({
        token: Type.Optional(Type.String({ maxLength: 4096, description: 'Push notification token' })),
      }),
    ),
    channel: Type.Optional(Type.String()),
    journeyStage: Type.Optional(Type.String()),
    traits: Type.Optional(Json),
  },
  { description: 'Where the call came from: device, app, page, library, IP, user agent ...' },
);

const common = {
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: NO_CONTROL_CHARACTERS })),
  userId: Type.Optional(Id),
  anonymousId: Type.Optional(Id),
  context: Type.Optional(TrackingContext),
  integrations: Type.Optional(Json),
  timestamp: Type.Optional(DateTime),
  sentAt: Type.Optional(DateTime),
  originalTimestamp: Type.Optional(DateTime),
  writeKey: Type.Optional(Type.String()),
};

function call<P extends TProperties>(type: TrackingCallType, properties: P, description: string) {
  return Type.Object({ ...common, type: Type.Optional(Type.Literal(type)), ...properties }, { description });
}

export const TrackCall = call(
  'track',
  { event: Type.String({ minLength: 1, maxLength: MAX_NAME }), properties: Type.Optional(Json) },
  'Segment track call: something the customer did',
);
export type TrackCall = Static<typeof TrackCall>;

export const IdentifyCall = call(
  'identify',
  { traits: Type.Optional(Json) },
  'Segment identify call: who the customer is',
);
export type IdentifyCall = Static<typeof IdentifyCall>;

const viewed = {
  name: Type.Optional(Type.String({ maxLength: MAX_NAME })),
  category: Type.Optional(Type.String({ maxLength: MAX_NAME })),
  properties: Type.Optional(Json),
};
export const PageCall = call('page', viewed, 'Segment page call: the customer viewed a web page');
export type PageCall = Static<typeof PageCall>;

export const ScreenCall = call('screen', viewed, 'Segment screen call: the customer viewed an app screen');
export type ScreenCall = Static<typeof ScreenCall>;

export const GroupCall = call(
  'group',
  { groupId: Id, traits: Type.Optional(Json) },
  'Segment group call: the customer belongs to a group (company, household); traits describe the group',
);
export type GroupCall = Static<typeof GroupCall>;

export const AliasCall = call(
  'alias',
  { previousId: Id, userId: Id },
  'Segment alias call: previousId (an earlier user or anonymous id) is the same person as userId',
);
export type AliasCall = Static<typeof AliasCall>;

export const TrackingCallSchemas = {
  identify: IdentifyCall,
  track: TrackCall,
  page: PageCall,
  screen: ScreenCall,
  group: GroupCall,
  alias: AliasCall,
} as const;

export const BatchRequest = Type.Object(
  {
    batch: Type.Array(Type.Unknown(), {
      minItems: 1,
      description: 'Calls, each with its `type`; checked one by one',
    }),
    context: Type.Optional(TrackingContext),
    integrations: Type.Optional(Json),
    sentAt: Type.Optional(DateTime),
    writeKey: Type.Optional(Type.String()),
  },
  {
    description: 'Segment batch (and import) call; batch-level context and integrations apply to every call',
  },
);
export type BatchRequest = Static<typeof BatchRequest>;

export const TrackingIssue = Type.Object({ path: Type.String(), reason: Type.String() });

export const RejectedCall = Type.Object(
  { index: Type.Integer({ minimum: 0 }), issues: Type.Array(TrackingIssue) },
  { description: 'A call of a batch that was not stored, with why' },
);
export type RejectedCall = Static<typeof RejectedCall>;

export const TrackingResponse = Type.Object({
  success: Type.Boolean(),
  rejected: Type.Optional(Type.Array(RejectedCall)),
});
export type TrackingResponse = Static<typeof TrackingResponse>;
