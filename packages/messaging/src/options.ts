import { assertPrefix, type ServiceName } from '@cdp/contracts';

/** Connection and delivery settings shared by {@link JetStreamServer} and {@link JetStreamPublisher}. */
export interface MessagingOptions {
  /** NATS URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** `''` or one subject token (see contracts `assertPrefix`); prefixes subjects and stream names. */
  prefix: string;
  /** The service this process belongs to: durable consumer names, DLQ subjects, RPC queue group. */
  service: ServiceName;
  /** Deliveries of one message before it goes to the dead-letter subject. Default 5. */
  maxDeliver?: number;
  /** Redelivery delay after the n-th failed delivery (last entry repeats). Default [1000, 5000, 15000, 60000]. */
  backoffMs?: number[];
  /** Time a delivered, unacknowledged message is held before the server redelivers it. Default 30000. */
  ackWaitMs?: number;
  /** Stream replicas (1 on a single server). Default 1. */
  streamReplicas?: number;
  /** Connection name shown by the server. Default: the service name. */
  name?: string;
  /** Messages processed at once per consumer (event pattern) in one process. Default 64. */
  concurrency?: number;
  /** Longest wait for a PubAck before `publish` fails with MessagingUnavailableError. Default 5000. */
  publishTimeoutMs?: number;
  /** Longest time `connect()`/`listen()` try to reach NATS before failing. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Longest wait at shutdown for the handlers under way to finish (and ack) before the connection
   * closes without them; their messages are redelivered. Default 5000.
   */
  shutdownGraceMs?: number;
}

export type ResolvedMessagingOptions = Required<Omit<MessagingOptions, 'servers'>> & { servers: string[] };

/** Injection token of the {@link MessagingOptions} given to `MessagingModule.forRoot`. */
export const MESSAGING_OPTIONS = Symbol.for('@cdp/messaging:options');

/** Transport id of {@link JetStreamServer}: `@EventPattern(name, JETSTREAM_TRANSPORT)`. */
export const JETSTREAM_TRANSPORT: symbol = Symbol.for('@cdp/messaging:jetstream');

export const DEFAULTS = {
  maxDeliver: 5,
  backoffMs: [1000, 5000, 15000, 60000],
  ackWaitMs: 30_000,
  streamReplicas: 1,
  concurrency: 64,
  publishTimeoutMs: 5000,
  connectTimeoutMs: 10_000,
  shutdownGraceMs: 5000,
} as const;

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`MessagingOptions.${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

export function resolveOptions(options: MessagingOptions): ResolvedMessagingOptions {
  const servers = (Array.isArray(options.servers) ? options.servers : [options.servers])
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) throw new Error('MessagingOptions.servers is empty');
  const backoffMs = [...(options.backoffMs ?? DEFAULTS.backoffMs)];
  backoffMs.forEach((ms, i) => positiveInt(`backoffMs[${i}]`, ms, 0));
  return {
    servers,
    prefix: assertPrefix(options.prefix),
    service: options.service,
    name: options.name ?? options.service,
    maxDeliver: positiveInt('maxDeliver', options.maxDeliver ?? DEFAULTS.maxDeliver),
    backoffMs,
    ackWaitMs: positiveInt('ackWaitMs', options.ackWaitMs ?? DEFAULTS.ackWaitMs, 100),
    streamReplicas: positiveInt('streamReplicas', options.streamReplicas ?? DEFAULTS.streamReplicas),
    concurrency: positiveInt('concurrency', options.concurrency ?? DEFAULTS.concurrency),
    publishTimeoutMs: positiveInt(
      'publishTimeoutMs',
      options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs,
      10,
    ),
    connectTimeoutMs: positiveInt(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      10,
    ),
    shutdownGraceMs: positiveInt('shutdownGraceMs', options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs, 0),
  };
}

/** Redelivery delay after delivery number `deliveryCount` (1-based) failed. */
export function backoffDelay(backoffMs: readonly number[], deliveryCount: number): number {
  if (backoffMs.length === 0) return 0;
  const i = Math.min(Math.max(deliveryCount, 1), backoffMs.length) - 1;
  return backoffMs[i] ?? 0;
}
