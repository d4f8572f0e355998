import { setTimeout as sleep } from 'node:timers/promises';
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
  connect,
  type NatsConnection,
} from '@nats-io/transport-node';
import { describeError, MessagingUnavailableError } from './errors';
import type { ResolvedMessagingOptions } from './options';

/**
 * Connects with a deadline. After the first connection the client reconnects forever
 * (`maxReconnectAttempts: -1`). The first connection is retried here rather than with
 * `waitOnFirstConnect`, which never gives up (with -1) and cannot be cancelled.
 */
export async function connectNats(
  options: ResolvedMessagingOptions,
  name: string,
  signal?: AbortSignal,
): Promise<NatsConnection> {
  const deadline = Date.now() + options.connectTimeoutMs;
  let last: unknown;
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      const nc = await connect({
        servers: options.servers,
        name,
        reconnect: true,
        maxReconnectAttempts: -1,
        waitOnFirstConnect: false,
        timeout: Math.max(100, Math.min(remaining, 5000)),
        // The client otherwise builds an Error (a stack trace) for every request and PubAck wait,
        // in case it times out: a measured ~5% of the collection's CPU at ingest rates.
        noAsyncTraces: true,
      });
      if (signal?.aborted) {
        await nc.close();
        throw new MessagingUnavailableError('connect aborted: closed while connecting');
      }
      return nc;
    } catch (e) {
      if (e instanceof MessagingUnavailableError) throw e;
      last = e;
    }
    const left = deadline - Date.now();
    if (signal?.aborted || left <= 50) {
      throw new MessagingUnavailableError(
        `NATS unreachable at ${options.servers.join(',')} (gave up after ${options.connectTimeoutMs} ms): ${describeError(last)}`,
        { cause: last },
      );
    }
    try {
      await sleep(Math.min(500, left), undefined, { signal });
    } catch {
      // aborted: the check above ends the loop
    }
  }
}

/** True for errors that mean "NATS/JetStream did not answer" rather than "NATS refused this". */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof MessagingUnavailableError) return true;
  if (
    error instanceof TimeoutError ||
    error instanceof ClosedConnectionError ||
    error instanceof DrainingConnectionError ||
    error instanceof ConnectionError ||
    error instanceof NoRespondersError
  )
    return true;
  if (error instanceof RequestError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'JetStreamNotEnabled' || name === 'TimeoutError';
}

/** `js.publish` to a subject no stream covers fails with "no responders" (JetStreamNotEnabled). */
export function isNoStream(error: unknown): boolean {
  if (error instanceof NoRespondersError) return true;
  if (error instanceof RequestError && error.isNoResponders()) return true;
  const e = error as { name?: unknown; cause?: unknown } | null;
  if (e?.name === 'JetStreamNotEnabled') return true;
  return (
    e?.cause instanceof NoRespondersError || (e?.cause instanceof RequestError && e.cause.isNoResponders())
  );
}

/** Rejects with `onTimeout()` if `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => undefined);
  }
}
