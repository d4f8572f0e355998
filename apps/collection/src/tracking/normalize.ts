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

/**
 * Segment's clock-skew correction: a device clock may be wrong, but the difference between its
 * `timestamp` and its `sentAt` is right, so timestamp = receivedAt - (sentAt - timestamp).
 */
export function correctedTimestamp(
  timestamp: string | undefined,
  sentAt: string | undefined,
  receivedAt: Date,
): Date {
  if (!timestamp) return receivedAt;
  const ts = Date.parse(timestamp);
  if (!sentAt) return new Date(ts);
  return new Date(receivedAt.getTime() - (Date.parse(sentAt) - ts));
}
