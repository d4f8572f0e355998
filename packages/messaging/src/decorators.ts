import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { EventSubject, RpcSubject } from '@cdp/contracts';
import { JETSTREAM_TRANSPORT } from './options';

export interface JetStreamEventOptions {
  /** Messages of this subject processed at once in this process (overrides `MessagingOptions.concurrency`). */
  concurrency?: number;
}

/**
 * `@EventPattern(subject.name, JETSTREAM_TRANSPORT)` without Nest 12's typed-overload pitfall
 * (plain `@EventPattern(name, transport)` infers the payload type `{}`, so a typed `@Payload()`
 * fails to compile; `@EventPattern<string>(...)` is the other way out).
 */
export function JetStreamEventPattern(
  subject: EventSubject,
  options: JetStreamEventOptions = {},
): MethodDecorator {
  return EventPattern<string>(subject.name, JETSTREAM_TRANSPORT, { ...options });
}

export interface JetStreamBatchOptions {
  /** Messages of this subject pulled and not yet settled at once in this process (overrides `MessagingOptions.concurrency`). */
  concurrency?: number;
  /** Most messages per handler call. Default: `concurrency`. */
  maxMessages?: number;
}

/**
 * A handler that takes the messages of a subject in batches: `(payloads: PayloadOf<S>[], ctx:
 * JetStreamBatchContext)`, called once per batch (Nest's handler pipeline runs once, not per
 * message). A batch holds the valid messages that arrived in one event-loop turn (a pull's worth),
 * at most `maxMessages`. Resolving with nothing acks every message; resolving with a
 * `Map<index, error>` nak's (or dead-letters) the messages at those indexes of `payloads` and acks
 * the others; throwing fails every message of the batch. Invalid messages are dead-lettered
 * without reaching the handler, as with {@link JetStreamEventPattern}.
 */
export function JetStreamBatchPattern(
  subject: EventSubject,
  options: JetStreamBatchOptions = {},
): MethodDecorator {
  const { maxMessages, ...rest } = options;
  return EventPattern<string>(subject.name, JETSTREAM_TRANSPORT, {
    ...rest,
    batch: { ...(maxMessages !== undefined && { maxMessages }) },
  });
}

/** What a batch handler may resolve with: the failed messages by index in its `payloads`, with why. */
export type JetStreamBatchFailures = ReadonlyMap<number, unknown>;

/** `@MessagePattern(rpc.name, JETSTREAM_TRANSPORT)`. */
export function JetStreamMessagePattern(rpc: RpcSubject): MethodDecorator {
  return MessagePattern<string>(rpc.name, JETSTREAM_TRANSPORT);
}
