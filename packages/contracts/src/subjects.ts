import type { Static, TSchema } from '@sinclair/typebox';
import {
  ApiKeysUsedReplyV1,
  ApiKeysUsedRequestV1,
  CustomerLookupReplyV1,
  CustomerLookupRequestV1,
  EventIngestedV1,
  IdentityMergedV1,
  IdentityUnmergedV1,
  CustomerErasedV1,
  CustomerRestrictedV1,
  IngestAcceptedV1,
  IngestBatchAcceptedV1,
  ProfileUpdatedV1,
} from './payloads/collection';
import {
  CustomerSegmentsReplyV1,
  CustomerSegmentsRequestV1,
  ScoreUpdatedV1,
  SegmentEnteredV1,
  SegmentExitedV1,
} from './payloads/analysis';
import { ConsentChangedV1, DeliveryRequestedV1, DeliveryStatusV1 } from './payloads/delivery';

export type ServiceName = 'collection' | 'analysis' | 'campaign' | 'delivery';

/**
 * JetStream streams. Each covers whole subject families so a new subject of a family needs no
 * stream change. Names and subjects get the run's prefix (see `streamName`, `subjectFilter`).
 */
export const Streams = {
  INGEST: {
    name: 'CDP_INGEST',
    families: ['cdp.ingest'],
    description: 'Tracking calls accepted by the HTTP API, before persistence',
    maxAgeDays: 7,
  },
  EVENTS: {
    name: 'CDP_EVENTS',
    families: ['cdp.event', 'cdp.profile', 'cdp.identity', 'cdp.customer'],
    description: 'Customer history, profiles, identity changes and erasures',
    maxAgeDays: 7,
  },
  ANALYSIS: {
    name: 'CDP_ANALYSIS',
    families: ['cdp.segment', 'cdp.score'],
    description: 'Segment membership changes and scores',
    maxAgeDays: 7,
  },
  DELIVERY: {
    name: 'CDP_DELIVERY',
    families: ['cdp.delivery', 'cdp.consent'],
    description: 'Delivery requests, receipts and consent changes',
    maxAgeDays: 14,
  },
  DLQ: {
    name: 'CDP_DLQ',
    families: ['cdp.dlq'],
    description: 'Messages a consumer gave up on, with the reason in headers',
    maxAgeDays: 30,
  },
} as const;
export type StreamKey = keyof typeof Streams;

export interface EventSubject<S extends TSchema = TSchema> {
  /** Subject name without prefix and workspace token: `cdp.<entity>.<action>`. */
  readonly name: string;
  readonly version: number;
  readonly stream: StreamKey;
  readonly producer: ServiceName;
  readonly summary: string;
  readonly schema: S;
}

export interface RpcSubject<Req extends TSchema = TSchema, Res extends TSchema = TSchema> {
  readonly name: string;
  readonly version: number;
  readonly responder: ServiceName;
  readonly summary: string;
  readonly request: Req;
  readonly reply: Res;
}

function event<S extends TSchema>(def: EventSubject<S>): EventSubject<S> {
  return def;
}

/** Every event subject of the platform. Full subject: `[<prefix>.]<name>.<workspaceId>`. */
export const Subjects = {
  ingestAccepted: event({
    name: 'cdp.ingest.accepted',
    version: 1,
    stream: 'INGEST',
    producer: 'collection',
    summary: 'Tracking call made durable, awaiting identity resolution and storage',
    schema: IngestAcceptedV1,
  }),
  ingestBatchAccepted: event({
    name: 'cdp.ingest.batch',
    version: 1,
    stream: 'INGEST',
    producer: 'collection',
    summary:
      'Tracking calls of one batch request made durable as one message (one PubAck for the batch), awaiting storage',
    schema: IngestBatchAcceptedV1,
  }),
  eventIngested: event({
    name: 'cdp.event.ingested',
    version: 1,
    stream: 'EVENTS',
    producer: 'collection',
    summary: 'Interaction stored and linked to a customer',
    schema: EventIngestedV1,
  }),
  profileUpdated: event({
    name: 'cdp.profile.updated',
    version: 1,
    stream: 'EVENTS',
    producer: 'collection',
    summary: 'Customer profile changed',
    schema: ProfileUpdatedV1,
  }),
  identityMerged: event({
    name: 'cdp.identity.merged',
    version: 1,
    stream: 'EVENTS',
    producer: 'collection',
    summary: 'Customers merged into one',
    schema: IdentityMergedV1,
  }),
  identityUnmerged: event({
    name: 'cdp.identity.unmerged',
    version: 1,
    stream: 'EVENTS',
    producer: 'collection',
    summary: 'A merge was undone',
    schema: IdentityUnmergedV1,
  }),
  customerErased: event({
    name: 'cdp.customer.erased',
    version: 1,
    stream: 'EVENTS',
    producer: 'collection',
    summary: "Customer's personal data erased",
    schema: CustomerErasedV1,
  }),
  customerRestricted: event({
    name: 'cdp.customer.restricted',
    version: 1,
    stream: 'EVENTS',
    producer: 'collection',
    summary: "Customer's processing restricted, or the restriction lifted",
    schema: CustomerRestrictedV1,
  }),
  segmentEntered: event({
    name: 'cdp.segment.entered',
    version: 1,
    stream: 'ANALYSIS',
    producer: 'analysis',
    summary: 'Customer entered a segment',
    schema: SegmentEnteredV1,
  }),
  segmentExited: event({
    name: 'cdp.segment.exited',
    version: 1,
    stream: 'ANALYSIS',
    producer: 'analysis',
    summary: 'Customer left a segment',
    schema: SegmentExitedV1,
  }),
  scoreUpdated: event({
    name: 'cdp.score.updated',
    version: 1,
    stream: 'ANALYSIS',
    producer: 'analysis',
    summary: 'Customer score computed',
    schema: ScoreUpdatedV1,
  }),
  deliveryRequested: event({
    name: 'cdp.delivery.requested',
    version: 1,
    stream: 'DELIVERY',
    producer: 'campaign',
    summary: 'Send one message to one customer',
    schema: DeliveryRequestedV1,
  }),
  deliveryStatus: event({
    name: 'cdp.delivery.status',
    version: 1,
    stream: 'DELIVERY',
    producer: 'delivery',
    summary: 'What happened to a message',
    schema: DeliveryStatusV1,
  }),
  consentChanged: event({
    name: 'cdp.consent.changed',
    version: 1,
    stream: 'DELIVERY',
    producer: 'delivery',
    summary: 'Consent granted or withdrawn',
    schema: ConsentChangedV1,
  }),
} as const;
export type SubjectKey = keyof typeof Subjects;
export type PayloadOf<S extends { schema: TSchema }> = Static<S['schema']>;

/** Core NATS request/reply look-ups (never on a stream). Full subject: `[<prefix>.]<name>.<workspaceId>`. */
export const RpcSubjects = {
  customerLookup: {
    name: 'cdp-rpc.customer.lookup',
    version: 1,
    responder: 'collection',
    summary: 'Find a customer by id or identifier',
    request: CustomerLookupRequestV1,
    reply: CustomerLookupReplyV1,
  } satisfies RpcSubject,
  customerSegments: {
    name: 'cdp-rpc.customer.segments',
    version: 1,
    responder: 'analysis',
    summary: "A customer's current segments and scores, for collection's Customer 360 view",
    request: CustomerSegmentsRequestV1,
    reply: CustomerSegmentsReplyV1,
  } satisfies RpcSubject,
  apiKeysUsed: {
    name: 'cdp-rpc.apikeys.used',
    version: 1,
    responder: 'collection',
    summary:
      'Every service reports the management API keys it saw used (about once a minute); collection keeps their last use',
    request: ApiKeysUsedRequestV1,
    reply: ApiKeysUsedReplyV1,
  } satisfies RpcSubject,
} as const;
export type RequestOf<R extends RpcSubject> = Static<R['request']>;
export type ReplyOf<R extends RpcSubject> = Static<R['reply']>;

const PREFIX_PATTERN = /^[A-Za-z0-9_-]*$/;

/** Validates a run prefix: one subject token, also usable in stream and consumer names. */
export function assertPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) throw new Error(`NATS prefix "${prefix}" must match ${PREFIX_PATTERN}`);
  return prefix;
}

function withPrefix(prefix: string, subject: string): string {
  return prefix ? `${assertPrefix(prefix)}.${subject}` : subject;
}

/** The subject one workspace's messages of `name` are published on. */
export function subjectFor(prefix: string, name: string, workspaceId: string): string {
  if (!workspaceId || /[.*>\s]/.test(workspaceId))
    throw new Error(`workspaceId "${workspaceId}" cannot be a subject token`);
  return withPrefix(prefix, `${name}.${workspaceId}`);
}

/** Filter matching `name` for every workspace (or one). */
export function subjectFilter(prefix: string, name: string, workspaceId = '*'): string {
  return withPrefix(prefix, `${name}.${workspaceId}`);
}

/** Splits a full subject back into its name and workspace. */
export function parseSubject(prefix: string, subject: string): { name: string; workspaceId: string } {
  const bare = prefix ? subject.slice(prefix.length + 1) : subject;
  const cut = bare.lastIndexOf('.');
  return { name: bare.slice(0, cut), workspaceId: bare.slice(cut + 1) };
}

export function streamName(prefix: string, stream: StreamKey): string {
  return prefix ? `${assertPrefix(prefix)}_${Streams[stream].name}` : Streams[stream].name;
}

export function streamSubjects(prefix: string, stream: StreamKey): string[] {
  return Streams[stream].families.map((family) => withPrefix(prefix, `${family}.>`));
}

/** Where a consumer puts a message it gave up on: `cdp.dlq.<service>.<entity>.<action>.<workspaceId>`. */
export function deadLetterSubject(
  prefix: string,
  service: string,
  name: string,
  workspaceId: string,
): string {
  return subjectFor(prefix, `cdp.dlq.${service}.${name.replace(/^cdp\./, '')}`, workspaceId);
}

export function findEventSubject(name: string): EventSubject | undefined {
  return Object.values(Subjects).find((s) => s.name === name);
}
