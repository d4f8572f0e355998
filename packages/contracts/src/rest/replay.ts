import { oneOf } from '../payloads/common';
import { Type, type Static } from '@sinclair/typebox';

/** `POST /v1/replay` (collection): re-announce stored events whose received_at lies in [from, to). */
export const ReplayRequest = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'Start of the range (inclusive), by received_at' }),
    to: Type.String({ format: 'date-time', description: 'End of the range (exclusive), by received_at' }),
    eventNames: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        minItems: 1,
        maxItems: 100,
        uniqueItems: true,
        description: 'Only events with one of these names (track event names)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReplayRequest = Static<typeof ReplayRequest>;

/** POST /v1/replay/profiles takes no options: an empty body, or none. */
export const ProfilesReplayRequest = Type.Object({}, { additionalProperties: false });

export const ReplayStatus = Type.Object({
  id: Type.String({
    description:
      'Replay id; replayed messages carry Nats-Msg-Id replay:<id>:<eventId> (events) or replay:<id>:profile:<customerId> (profiles)',
  }),
  kind: oneOf(['events', 'profiles'] as const, {
    description:
      "events: stored events of a time range to cdp.event.ingested; profiles: every live customer's profile to cdp.profile.updated",
  }),
  state: Type.String({ description: 'BullMQ job state: waiting, active, completed, failed, delayed, ...' }),
  published: Type.Integer({ minimum: 0, description: 'Events (or profiles) re-published so far' }),
  done: Type.Boolean(),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  eventNames: Type.Optional(Type.Array(Type.String())),
  failedReason: Type.Optional(Type.String()),
});
export type ReplayStatus = Static<typeof ReplayStatus>;
