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

/** `@MessagePattern(rpc.name, JETSTREAM_TRANSPORT)`. */
export function JetStreamMessagePattern(rpc: RpcSubject): MethodDecorator {
  return MessagePattern<string>(rpc.name, JETSTREAM_TRANSPORT);
}
