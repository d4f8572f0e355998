import { CHANNELS, JOURNEY_STAGES, type Channel, type JourneyStage } from '@cdp/contracts';
import type { Static } from '@sinclair/typebox';

type ChannelName = Static<typeof Channel>;
type StageName = Static<typeof JourneyStage>;

const SOURCE_KIND_CHANNEL: Record<string, ChannelName> = {
  web: 'web',
  app: 'app',
  branch: 'branch',
  call_centre: 'call_centre',
  operational_db: 'operational',
  webhook: 'partner',
};

function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

/** `context.channel` when the caller names one, else what the source is (a branch system, an app ...). */
export function channelOf(context: Record<string, unknown>, sourceKind: string): ChannelName {
  if (isOneOf(CHANNELS, context.channel)) return context.channel;
  return SOURCE_KIND_CHANNEL[sourceKind] ?? 'other';
}

export function journeyStageOf(
  context: Record<string, unknown>,
  properties?: Record<string, unknown>,
): StageName | undefined {
  const stage = context.journeyStage ?? properties?.journeyStage;
  return isOneOf(JOURNEY_STAGES, stage) ? stage : undefined;
}

/** Timestamps outside this range are refused at the API: Postgres and the SDKs' clocks agree inside it. */
export const EARLIEST_TIMESTAMP = Date.parse('1900-01-01T00:00:00.000Z');
export const LATEST_TIMESTAMP = Date.parse('9999-12-31T23:59:59.999Z');

export function isStorableTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_TIMESTAMP && ms <= LATEST_TIMESTAMP;
}

/**
 * Segment's clock-skew correction: a device clock may be wrong, but the difference between its
 * `timestamp` and its `sentAt` is right, so timestamp = receivedAt - (sentAt - timestamp).
 * When two absurd clocks would push the result out of the storable range, the device's own
 * timestamp is kept instead.
 */
export function correctedTimestamp(
  timestamp: string | undefined,
  sentAt: string | undefined,
  receivedAt: Date,
): Date {
  if (!timestamp) return receivedAt;
  const ts = Date.parse(timestamp);
  if (!sentAt) return new Date(ts);
  const corrected = receivedAt.getTime() - (Date.parse(sentAt) - ts);
  return new Date(isStorableTime(corrected) ? corrected : ts);
}
