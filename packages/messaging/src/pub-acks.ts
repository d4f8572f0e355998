import {
  createInbox,
  NoRespondersError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { PublishResult } from './jetstream-publisher';

type Settle = (error: unknown, ack?: PublishResult) => void;

interface Waiting {
  subject: string;
  sentAt: number;
  settle: Settle;
}

/** How often the PubAcks still awaited are checked for their deadline (at most). */
const SWEEP_MS = 100;

/**
 * Waits for JetStream PubAcks of plain publishes: each publish carries a reply subject under one
 * inbox (one wildcard subscription for the connection), the answer settles its waiter, and one
 * interval fails the waiters older than `timeoutMs` with a TimeoutError. What `js.publish` does
 * per message (a request with its own timer, promise and, in nats.js 3, an Error object built even
 * on success) is done here once per connection.
 */
export class PubAckWaiter {
  private readonly inbox: string;
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private sweeper?: NodeJS.Timeout;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.inbox = `${createInbox()}.`;
    nc.subscribe(`${this.inbox}*`, {
      callback: (error, msg) => {
        // A subscription error (e.g. a permission violation): the waiters time out.
        if (!error) this.answer(msg);
      },
    });
  }

  /** Publishes; `settle` is called once, later, with the PubAck or the error. Throws if the connection refuses the publish. */
  send(subject: string, body: string, headers: MsgHdrs, settle: Settle): void {
    const token = (this.next++).toString(36);
    this.nc.publish(subject, body, { reply: `${this.inbox}${token}`, headers });
    this.waiting.set(token, { subject, sentAt: Date.now(), settle });
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(SWEEP_MS, this.timeoutMs));
  }

  /** Resolves once no PubAck is awaited (each is answered or timed out within `timeoutMs`). */
  idle(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private answer(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const w = this.waiting.get(token);
    if (!w) return; // answered after it timed out
    this.settled(token);
    // No stream covers the subject: the server answers "no responders" (503) in place of a PubAck.
    if (msg.data.length === 0 && msg.headers?.code === 503) return w.settle(new NoRespondersError(w.subject));
    let answer: { stream?: string; seq?: number; duplicate?: boolean; error?: unknown };
    try {
      answer = JSON.parse(msg.string()) as typeof answer;
    } catch {
      return w.settle(new Error(`invalid PubAck for ${w.subject}: ${msg.string().slice(0, 200)}`));
    }
    if (answer.error) {
      return w.settle(
        new JetStreamApiError(answer.error as ConstructorParameters<typeof JetStreamApiError>[0]),
      );
    }
    if (!answer.stream || typeof answer.seq !== 'number')
      return w.settle(new Error(`invalid PubAck for ${w.subject}: ${msg.string().slice(0, 200)}`));
    w.settle(undefined, { seq: answer.seq, duplicate: answer.duplicate === true });
  }

  private settled(token: string): void {
    this.waiting.delete(token);
    if (this.waiting.size > 0) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private sweep(): void {
    const deadline = Date.now() - this.timeoutMs;
    // Insertion order is send order: the oldest come first.
    for (const [token, w] of this.waiting) {
      if (w.sentAt > deadline) break;
      this.settled(token);
      w.settle(new TimeoutError());
    }
  }
}
