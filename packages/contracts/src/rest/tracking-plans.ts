import { Type, type Static } from '@sinclair/typebox';
import { oneOf } from '../payloads/common';

/** Call types a tracking plan rule can cover (alias calls carry nothing to check). */
export const TRACKING_PLAN_CALL_TYPES = ['track', 'identify', 'page', 'screen', 'group'] as const;
export type TrackingPlanCallType = (typeof TRACKING_PLAN_CALL_TYPES)[number];

export const TrackingPlanMode = oneOf(['report', 'block'] as const, {
  description: 'report: accept the call, mark and count its violations; block: refuse it',
});
export type TrackingPlanMode = Static<typeof TrackingPlanMode>;

export const UnplannedEventPolicy = oneOf(['allow', 'report', 'block'] as const, {
  description: 'What happens to a track call whose event no rule covers',
});
export type UnplannedEventPolicy = Static<typeof UnplannedEventPolicy>;

/**
 * `PUT /v1/tracking-plan/rules`: creates the rule of (source or all sources, type, event) or
 * replaces it. `event` names the track event or the page/screen name and must be absent for
 * identify and group; `schema` is a JSON Schema (draft 2020-12, or draft-07 when its `$schema`
 * says so) for the call's `properties` (track, page, screen) or `traits` (identify, group).
 */
export const TrackingPlanRuleInput = Type.Object(
  {
    sourceId: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        description: 'Source the rule is limited to; absent or null: every source of the workspace',
      }),
    ),
    type: oneOf(TRACKING_PLAN_CALL_TYPES),
    event: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    schema: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Boolean()], {
      description: 'JSON Schema of properties (track, page, screen) or traits (identify, group)',
    }),
    mode: TrackingPlanMode,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type TrackingPlanRuleInput = Static<typeof TrackingPlanRuleInput>;

/** `PUT /v1/tracking-plan/unplanned-events`: the workspace default (no sourceId) or one source's override. */
export const UnplannedEventsInput = Type.Object(
  {
    sourceId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    policy: UnplannedEventPolicy,
  },
  { additionalProperties: false },
);
export type UnplannedEventsInput = Static<typeof UnplannedEventsInput>;
