import { Type, type SchemaOptions, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';

/** A closed set of strings, keeping the literal types (`Static` gives `'a' | 'b'`, not `string`). */
export function oneOf<const T extends readonly string[]>(
  values: T,
  options?: SchemaOptions,
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

export const WorkspaceId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'Workspace (tenant) id',
});
export const CustomerId = Type.String({ minLength: 1, maxLength: 64, description: 'Platform customer id' });
export const Timestamp = Type.String({
  format: 'date-time',
  description: 'ISO-8601 timestamp with time zone',
});
export const Json = Type.Record(Type.String(), Type.Unknown());

export const CHANNELS = [
  'web',
  'app',
  'branch',
  'call_centre',
  'email',
  'sms',
  'push',
  'ad',
  'partner',
  'operational',
  'other',
] as const;
export const Channel = oneOf(CHANNELS, { description: 'Channel where an interaction happened' });
export const JOURNEY_STAGES = ['inflow', 'explore_compare', 'purchase', 'use'] as const;
export const JourneyStage = oneOf(JOURNEY_STAGES, {
  description: 'Customer journey stage of an interaction',
});
export const LifecycleStage = oneOf(['potential', 'prospect', 'contracted'] as const, {
  description: 'Customer lifecycle stage',
});
export const DeliveryChannel = oneOf(['email', 'sms', 'push', 'webhook', 'ad_audience'] as const, {
  description: 'Outbound delivery channel',
});

/**
 * Every payload names its workspace, so a consumer never needs the subject to know the tenant.
 * Unknown fields are allowed (tolerant reader): adding an optional field is not a breaking change.
 */
export function payload<P extends Record<string, TSchema>>(properties: P, description: string) {
  return Type.Object({ workspaceId: WorkspaceId, ...properties }, { description });
}
