import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { Streams, streamName, streamSubjects, type StreamKey } from '@cdp/contracts';

/** Duplicate window of every stream: a retried publish with the same msgId within it is stored once. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

export type StreamSettings = Partial<StreamConfig> & { name: string; subjects: string[] };

export function streamConfig(prefix: string, key: StreamKey, replicas: number): StreamSettings {
  const def = Streams[key];
  return {
    name: streamName(prefix, key),
    subjects: streamSubjects(prefix, key),
    description: def.description,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(def.maxAgeDays * 24 * 60 * 60 * 1000),
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: replicas,
  };
}

function isApiError(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

export function isStreamNotFound(e: unknown): boolean {
  return isApiError(e, STREAM_NOT_FOUND);
}

function sameSubjects(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

function streamDiffers(have: StreamConfig, want: StreamSettings): boolean {
  return (
    !sameSubjects(have.subjects, want.subjects) ||
    have.max_age !== want.max_age ||
    have.duplicate_window !== want.duplicate_window ||
    have.num_replicas !== want.num_replicas ||
    (have.description ?? '') !== (want.description ?? '')
  );
}

/** Creates the stream, or updates it if its settings differ; safe to run concurrently from replicas. */
export async function ensureStream(jsm: JetStreamManager, want: StreamSettings): Promise<StreamInfo> {
  for (let attempt = 0; ; attempt++) {
    let have: StreamInfo | undefined;
    try {
      have = await jsm.streams.info(want.name);
    } catch (e) {
      if (!isApiError(e, STREAM_NOT_FOUND)) throw e;
    }
    try {
      if (!have) return await jsm.streams.add(want);
      if (!streamDiffers(have.config, want)) return have;
      const { name: _name, retention: _r, storage: _s, ...changes } = want;
      return await jsm.streams.update(want.name, changes);
    } catch (e) {
      // another replica created or changed it between our info and add/update: look again once
      if (attempt >= 1) throw e;
    }
  }
}

export async function ensureStreams(
  jsm: JetStreamManager,
  prefix: string,
  replicas: number,
): Promise<StreamInfo[]> {
  return Promise.all(
    (Object.keys(Streams) as StreamKey[]).map((key) =>
      ensureStream(jsm, streamConfig(prefix, key, replicas)),
    ),
  );
}

/**
 * Durable consumer of one service for one subject: `<service>__<name with dots as underscores>`.
 * No host or replica part, so every replica of the service shares it (work-queue style).
 */
export function durableName(service: string, subjectName: string): string {
  return `${service}__${subjectName.replace(/\./g, '_')}`;
}

export type ConsumerSettings = Partial<ConsumerConfig> & { durable_name: string; filter_subject: string };

export function consumerConfig(
  durable: string,
  filterSubject: string,
  ackWaitMs: number,
  maxDeliver: number,
  description: string,
): ConsumerSettings {
  return {
    durable_name: durable,
    description,
    filter_subject: filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_deliver: maxDeliver,
    // No server-side `backoff`: nats-server replaces ack_wait with backoff[0] when it is set, which
    // would redeliver any handler slower than the first backoff step. Retries use nak(delay) instead.
    backoff: [],
  };
}

function consumerDiffers(have: ConsumerConfig, want: ConsumerSettings): boolean {
  return (
    have.filter_subject !== want.filter_subject ||
    have.ack_policy !== want.ack_policy ||
    have.ack_wait !== want.ack_wait ||
    have.max_deliver !== want.max_deliver ||
    (have.backoff?.length ?? 0) > 0 ||
    (have.description ?? '') !== (want.description ?? '')
  );
}

/** Creates the durable pull consumer, or updates it if its settings differ. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  want: ConsumerSettings,
): Promise<ConsumerInfo> {
  for (let attempt = 0; ; attempt++) {
    let have: ConsumerInfo | undefined;
    try {
      have = await jsm.consumers.info(stream, want.durable_name);
    } catch (e) {
      if (!isApiError(e, CONSUMER_NOT_FOUND)) throw e;
    }
    try {
      if (!have) return await jsm.consumers.add(stream, want);
      if (!consumerDiffers(have.config, want)) return have;
      const { durable_name: _d, deliver_policy: _p, ack_policy: _a, ...changes } = want;
      return await jsm.consumers.update(stream, want.durable_name, changes);
    } catch (e) {
      if (attempt >= 1) throw e;
    }
  }
}
