import { BaseRpcContext } from '@nestjs/microservices';
import type { MsgHdrs } from '@nats-io/transport-node';

export interface JetStreamMessageInfo {
  /** `event` for @EventPattern (JetStream), `rpc` for @MessagePattern (core NATS request). */
  kind: 'event' | 'rpc';
  /** Full subject, prefix included. */
  subject: string;
  /** Subject name without prefix and workspace, e.g. `cdp.event.ingested`. */
  name: string;
  workspaceId: string;
  headers: Record<string, string>;
  /** 1 on first delivery; always 1 for rpc. */
  deliveryCount: number;
  /** Deliveries after which a failing message is dead-lettered; 1 for rpc. */
  maxDeliver: number;
  /** Publisher's deduplication id (Nats-Msg-Id), if any. */
  msgId: string | undefined;
  /** Stream sequence; 0 for rpc. */
  streamSequence: number;
  /** Stream name; '' for rpc. */
  stream: string;
}

/** `@Ctx() ctx: JetStreamContext` in a handler of {@link JetStreamServer}. */
export class JetStreamContext extends BaseRpcContext<[JetStreamMessageInfo]> {
  get info(): JetStreamMessageInfo {
    return this.args[0];
  }
  get kind(): 'event' | 'rpc' {
    return this.args[0].kind;
  }
  get subject(): string {
    return this.args[0].subject;
  }
  get name(): string {
    return this.args[0].name;
  }
  get workspaceId(): string {
    return this.args[0].workspaceId;
  }
  get headers(): Record<string, string> {
    return this.args[0].headers;
  }
  get deliveryCount(): number {
    return this.args[0].deliveryCount;
  }
  /** A failure now sends the message to the dead-letter subject instead of a redelivery. */
  get isLastDelivery(): boolean {
    return this.args[0].deliveryCount >= this.args[0].maxDeliver;
  }
  get msgId(): string | undefined {
    return this.args[0].msgId;
  }
  get streamSequence(): number {
    return this.args[0].streamSequence;
  }
  get stream(): string {
    return this.args[0].stream;
  }
}

/**
 * `@Ctx() ctx: JetStreamBatchContext` in a batch handler (`@JetStreamBatchPattern`): what
 * {@link JetStreamContext} tells of one message, for each message of the batch, in payload order.
 * Built on first use (a batch handler that does not look pays nothing for it).
 */
export class JetStreamBatchContext extends BaseRpcContext<[]> {
  private built?: JetStreamMessageInfo[];

  constructor(private readonly build: () => JetStreamMessageInfo[]) {
    super([]);
  }

  get messages(): JetStreamMessageInfo[] {
    return (this.built ??= this.build());
  }
}

/** First value of each header. */
export function headersToRecord(hdrs: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!hdrs) return out;
  for (const [key, values] of hdrs) {
    if (values[0] !== undefined) out[key] = values[0];
  }
  return out;
}
