import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  RpcSubjects,
  deadLetterSubject,
  findEventSubject,
  parseSubject,
  streamName,
  subjectFilter,
  validate,
  type EventSubject,
  type RpcSubject,
  issuesText,
  type ValidationIssue,
} from '@cdp/contracts';
import { connectNats } from './connection';
import { describeError, headerValue, statusOf, type RpcErrorReply } from './errors';
import { CdpHeaders } from './headers';
import {
  JetStreamBatchContext,
  JetStreamContext,
  headersToRecord,
  type JetStreamMessageInfo,
} from './jetstream-context';
import {
  JETSTREAM_TRANSPORT,
  backoffDelay,
  resolveOptions,
  type MessagingOptions,
  type ResolvedMessagingOptions,
} from './options';
import {
  consumerConfig,
  durableName,
  ensureConsumer,
  ensureStreams,
  isStreamNotFound,
  type ConsumerSettings,
} from './streams';

/** Events of {@link JetStreamServer.on}. */
export type JetStreamServerEvents = {
  disconnect: (server: string) => void;
  reconnect: (server: string) => void;
  error: (error: Error) => void;
};

export type JetStreamServerStatus = 'connected' | 'disconnected' | 'reconnecting' | 'closed';

/** A pull request stays open this long when fewer messages than asked for are available. */
const FETCH_EXPIRES_MS = 5000;
const PULL_RETRY_MS = 1000;
const DLQ_PUBLISH_ATTEMPTS = 3;

interface EventBinding {
  subject: EventSubject;
  durable: string;
  stream: string;
  concurrency: number;
  settings?: ConsumerSettings;
  consumer?: Consumer;
  /** The open pull request, closed on shutdown. */
  current?: ConsumerMessages;
  inFlight: number;
  waiters: Array<() => void>;
  loop?: Promise<void>;
  /** The Nest handler, looked up once: Nest's pattern look-up costs more than a small message. */
  handler?: ReturnType<Server['getHandlerByPattern']>;
  /** A batch handler (`@JetStreamBatchPattern`): most messages per call, and the ones waiting for it. */
  batch?: { maxMessages: number; pending: BatchItem[]; flush?: NodeJS.Immediate };
}

/** A valid message waiting for its batch handler call. */
interface BatchItem {
  m: JsMsg;
  value: unknown;
  workspaceId: string;
}

/** A message checked: its validated payload, or why it is dead-lettered without a handler call. */
type Checked = { value: unknown; workspaceId: string } | { invalid: string };

function findRpcSubject(name: string): RpcSubject | undefined {
  return Object.values(RpcSubjects).find((r) => r.name === name);
}

/**
 * Nest custom transport over NATS JetStream (events) and core NATS request/reply (look-ups).
 *
 * - `@EventPattern(Subjects.x.name, JETSTREAM_TRANSPORT)`: one durable pull consumer per service and
 *   subject, shared by the service's replicas; the payload is validated against the contracts
 *   schema; ack after the handler (and its Observable) completes, nak with backoff on error,
 *   dead-letter after `maxDeliver` deliveries or at once for an invalid message.
 * - `@MessagePattern(RpcSubjects.x.name, JETSTREAM_TRANSPORT)`: core NATS queue subscription
 *   (queue group = service); JSON request in, JSON reply out, `{ error: {...} }` on failure.
 */
export class JetStreamServer
  extends Server<JetStreamServerEvents, JetStreamServerStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = JETSTREAM_TRANSPORT;
  /** Failures are awaited and reported here, so Nest need not log RpcExceptions of event handlers. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(JetStreamServer.name);

  private readonly options: ResolvedMessagingOptions;
  private readonly emitter = new EventEmitter();
  private readonly stop = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private jsm?: JetStreamManager;
  private bindings: EventBinding[] = [];
  private rpcSubscriptions: Subscription[] = [];
  private stopping = false;
  private closing?: Promise<void>;

  constructor(options: MessagingOptions) {
    super();
    this.options = resolveOptions(options);
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      await this.start();
    } catch (error) {
      await this.close().catch(() => undefined);
      callback(error);
      return;
    }
    callback();
  }

  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  on<
    K extends keyof JetStreamServerEvents = keyof JetStreamServerEvents,
    C extends JetStreamServerEvents[K] = JetStreamServerEvents[K],
  >(event: K, callback: C): void {
    this.emitter.on(event, callback as (...args: unknown[]) => void);
  }

  unwrap<T>(): T {
    if (!this.nc)
      throw new Error('JetStreamServer is not listening: call listen() (startAllMicroservices) first');
    return this.nc as T;
  }

  /** Splits the registered handlers into JetStream consumers and RPC subscriptions; throws on unknown patterns. */
  private plan(): { events: EventBinding[]; rpcs: RpcSubject[] } {
    const events: EventBinding[] = [];
    const rpcs: RpcSubject[] = [];
    const problems: string[] = [];
    for (const [pattern, h] of this.getHandlers()) {
      if (h.isEventHandler) {
        const subject = findEventSubject(pattern);
        if (!subject) {
          problems.push(
            findRpcSubject(pattern)
              ? `@EventPattern('${pattern}') is a request/reply subject: use @MessagePattern`
              : `@EventPattern('${pattern}') is not an event subject of @cdp/contracts Subjects`,
          );
          continue;
        }
        const extra: unknown = h.extras?.concurrency;
        const concurrency =
          typeof extra === 'number' && Number.isInteger(extra) && extra > 0
            ? extra
            : this.options.concurrency;
        const batch = h.extras?.batch as { maxMessages?: unknown } | undefined;
        const maxMessages = batch?.maxMessages ?? concurrency;
        if (batch && !(typeof maxMessages === 'number' && Number.isInteger(maxMessages) && maxMessages > 0)) {
          problems.push(`batch handler of '${pattern}': maxMessages must be a positive integer`);
          continue;
        }
        events.push({
          subject,
          durable: durableName(this.options.service, subject.name),
          stream: streamName(this.options.prefix, subject.stream),
          concurrency,
          inFlight: 0,
          waiters: [],
          ...(batch && { batch: { maxMessages: maxMessages as number, pending: [] } }),
        });
      } else {
        const rpc = findRpcSubject(pattern);
        if (!rpc) {
          problems.push(
            findEventSubject(pattern)
              ? `@MessagePattern('${pattern}') is an event subject: use @EventPattern`
              : `@MessagePattern('${pattern}') is not a request/reply subject of @cdp/contracts RpcSubjects`,
          );
          continue;
        }
        rpcs.push(rpc);
      }
    }
    if (problems.length > 0)
      throw new Error(`JetStreamServer (${this.options.service}): ${problems.join('; ')}`);
    return { events, rpcs };
  }

  private async start(): Promise<void> {
    if (this.closing) throw new Error('JetStreamServer was closed; create a new instance');
    const { events, rpcs } = this.plan();
    const o = this.options;
    const nc = await connectNats(o, o.name, this.stop.signal);
    this.nc = nc;
    void this.watchStatus(nc);
    const jsm = await jetstreamManager(nc);
    this.jsm = jsm;
    this.js = jetstream(nc);
    await ensureStreams(jsm, o.prefix, o.streamReplicas);
    for (const b of events) {
      const description = `${o.service} handler of ${b.subject.name}`;
      b.settings = consumerConfig(
        b.durable,
        subjectFilter(o.prefix, b.subject.name),
        o.ackWaitMs,
        o.maxDeliver,
        description,
      );
      b.consumer = this.js.consumers.getConsumerFromInfo(await ensureConsumer(jsm, b.stream, b.settings));
    }
    this.bindings = events;
    for (const b of events) b.loop = this.pullLoop(b);
    for (const rpc of rpcs) {
      const sub = nc.subscribe(subjectFilter(o.prefix, rpc.name), {
        queue: o.service,
        callback: (err, msg) => {
          if (err) {
            this.logger.error(`RPC subscription ${rpc.name}: ${describeError(err)}`);
            return;
          }
          this.track(this.processRpc(rpc, msg));
        },
      });
      this.rpcSubscriptions.push(sub);
    }
    // The server has the subscriptions once this round trip returns: listen() resolving means "answering".
    await nc.flush();
    this._status$.next('connected');
    this.logger.log(
      `${o.service}: consuming ${events.map((b) => b.durable).join(', ') || 'no events'}; answering ${rpcs.map((r) => r.name).join(', ') || 'no requests'}`,
    );
  }

  /**
   * Stop pulling, let in-flight handlers finish and ack (for at most `shutdownGraceMs`), then drain
   * the connection. A handler still running then (waiting on a dependency that does not answer)
   * is left behind: its messages were not acked, so the server redelivers them; nothing is lost,
   * and the process can stop.
   */
  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.stop.abort();
    const settled = await settlesWithin(this.settleHandlers(), this.options.shutdownGraceMs);
    if (!settled)
      this.logger.warn(
        `shutdown: ${this.inFlight.size} handler(s) still running after ${this.options.shutdownGraceMs} ms; ` +
          'closing without them (their messages are not acked and will be redelivered)',
      );
    const nc = this.nc;
    if (nc && !nc.isClosed()) {
      const drained = await settlesWithin(
        nc.drain().catch(() => nc.close()),
        this.options.shutdownGraceMs,
      );
      if (!drained) await nc.close().catch(() => undefined);
    }
    this._status$.next('closed');
    this.emitter.removeAllListeners();
  }

  /** Ends the pulls and waits for every handler under way (and the batches still gathering). */
  private async settleHandlers(): Promise<void> {
    for (const b of this.bindings) this.wake(b);
    for (const b of this.bindings) await b.current?.close().catch(() => undefined);
    for (const b of this.bindings) await b.loop;
    for (const b of this.bindings) if (b.batch) this.flushBatch(b, b.batch);
    await Promise.all(this.rpcSubscriptions.map((s) => s.drain().catch(() => undefined)));
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private wake(b: EventBinding): void {
    for (const resolve of b.waiters.splice(0)) resolve();
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stop.signal }).catch(() => undefined);
  }

  /**
   * Pulls only as many messages as there are free handler slots (a fetch per half-empty window),
   * so a busy replica never holds messages that another replica could process.
   */
  private async pullLoop(b: EventBinding): Promise<void> {
    const minBatch = Math.max(1, Math.floor(b.concurrency / 2));
    let failures = 0;
    while (!this.stopping) {
      while (!this.stopping && b.concurrency - b.inFlight < minBatch) {
        await new Promise<void>((resolve) => b.waiters.push(resolve));
      }
      if (this.stopping || !b.consumer) break;
      try {
        const batch = await b.consumer.fetch({
          max_messages: b.concurrency - b.inFlight,
          expires: FETCH_EXPIRES_MS,
        });
        b.current = batch;
        if (this.stopping) await batch.close();
        for await (const m of batch) this.startEvent(b, m);
        if (failures > 0) this.logger.log(`${b.durable}: pulling again after ${failures} failed attempt(s)`);
        failures = 0;
      } catch (error) {
        if (this.stopping) break;
        // e.g. consumer/stream deleted (409 "consumer deleted", then missed heartbeats) or NATS down
        if (failures++ % 30 === 0)
          this.logger.warn(
            `${b.durable}: pull failed, retrying every ${PULL_RETRY_MS} ms: ${describeError(error)}`,
          );
        await this.pause(PULL_RETRY_MS);
        await this.recreateConsumer(b).catch(() => undefined);
      } finally {
        b.current = undefined;
      }
    }
  }

  /** Re-creates a deleted consumer (and streams) so a pull loop recovers from operator mistakes. */
  private async recreateConsumer(b: EventBinding): Promise<void> {
    const { jsm, js, options } = this;
    if (!jsm || !js || !b.settings || this.stopping) return;
    try {
      b.consumer = js.consumers.getConsumerFromInfo(await ensureConsumer(jsm, b.stream, b.settings));
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
      await ensureStreams(jsm, options.prefix, options.streamReplicas);
      b.consumer = js.consumers.getConsumerFromInfo(await ensureConsumer(jsm, b.stream, b.settings));
    }
  }

  private startEvent(b: EventBinding, m: JsMsg): void {
    if (b.batch) return this.collect(b, b.batch, m);
    b.inFlight++;
    const heartbeat = this.keepWorking([m]);
    this.track(
      this.processEvent(b, m)
        .catch((error: unknown) =>
          this.logger.error(`${b.durable}: seq ${m.seq} not settled: ${describeError(error)}`),
        )
        .finally(() => {
          clearInterval(heartbeat);
          this.release(b, 1);
        }),
    );
  }

  /** Parses and validates a message against its subject's schema and workspace. */
  private check(b: EventBinding, m: JsMsg): Checked {
    const { workspaceId } = parseSubject(this.options.prefix, m.subject);
    let data: unknown;
    try {
      data = JSON.parse(m.string());
    } catch (error) {
      return { invalid: `invalid JSON: ${describeError(error)}` };
    }
    const checked = validate(b.subject.schema, data);
    if (!checked.ok)
      return { invalid: `invalid ${b.subject.name}/v${b.subject.version}: ${issuesText(checked.issues)}` };
    const payloadWorkspace = (checked.value as { workspaceId?: unknown }).workspaceId;
    if (payloadWorkspace !== workspaceId) {
      return {
        invalid: `payload workspaceId "${String(payloadWorkspace)}" differs from subject workspace "${workspaceId}"`,
      };
    }
    return { value: checked.value, workspaceId };
  }

  private info(b: EventBinding, m: JsMsg, workspaceId: string): JetStreamMessageInfo {
    const headers = headersToRecord(m.headers);
    return {
      kind: 'event',
      subject: m.subject,
      name: b.subject.name,
      workspaceId,
      headers,
      deliveryCount: m.info.deliveryCount,
      maxDeliver: this.options.maxDeliver,
      msgId: headers[CdpHeaders.MsgId],
      streamSequence: m.seq,
      stream: b.stream,
    };
  }

  private async processEvent(b: EventBinding, m: JsMsg): Promise<void> {
    const checked = this.check(b, m);
    if ('invalid' in checked) return this.deadLetter(b, m, checked.invalid);
    const handler = (b.handler ??= this.getHandlerByPattern(b.subject.name));
    try {
      if (!handler) throw new Error(`no handler registered for ${b.subject.name}`);
      const ctx = new JetStreamContext([this.info(b, m, checked.workspaceId)]);
      const result: unknown = await handler(checked.value, ctx);
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    } catch (error) {
      return this.failed(b, m, error);
    }
    m.ack();
  }

  /** A failed delivery: nak with backoff, or dead-letter on the last one. */
  private async failed(b: EventBinding, m: JsMsg, error: unknown): Promise<void> {
    const { maxDeliver, backoffMs } = this.options;
    const deliveryCount = m.info.deliveryCount;
    const reason = describeError(error);
    if (deliveryCount >= maxDeliver) {
      this.logger.error(
        `${b.durable}: ${m.subject} seq ${m.seq} failed on delivery ${deliveryCount}/${maxDeliver}, dead-lettering: ${reason}`,
      );
      return this.deadLetter(b, m, reason);
    }
    const delay = backoffDelay(backoffMs, deliveryCount);
    this.logger.warn(
      `${b.durable}: ${m.subject} seq ${m.seq} failed on delivery ${deliveryCount}/${maxDeliver}, retrying in ${delay} ms: ${reason}`,
    );
    m.nak(delay);
  }

  /**
   * A message for a batch handler: checked at once (an invalid one is dead-lettered alone), then
   * held until `maxMessages` are waiting or the event-loop turn that brought it ends (a pull's
   * messages arrive in one turn), whichever comes first. It counts as in flight meanwhile.
   */
  private collect(b: EventBinding, batch: NonNullable<EventBinding['batch']>, m: JsMsg): void {
    b.inFlight++;
    const checked = this.check(b, m);
    if ('invalid' in checked) {
      this.track(
        this.deadLetter(b, m, checked.invalid)
          .catch((error: unknown) =>
            this.logger.error(`${b.durable}: seq ${m.seq} not settled: ${describeError(error)}`),
          )
          .finally(() => this.release(b, 1)),
      );
      return;
    }
    batch.pending.push({ m, value: checked.value, workspaceId: checked.workspaceId });
    if (batch.pending.length >= batch.maxMessages) this.flushBatch(b, batch);
    else batch.flush ??= setImmediate(() => this.flushBatch(b, batch));
  }

  /**
   * Keeps the messages ours while a slow handler runs: +WPI resets the server's ack_wait timer.
   * The caller clears the returned interval once they are settled.
   */
  private keepWorking(messages: JsMsg[]): NodeJS.Timeout {
    const heartbeat = setInterval(
      () => {
        for (const m of messages) {
          try {
            m.working();
          } catch {
            // connection closed: the server redelivers after ack_wait
          }
        }
      },
      Math.max(100, Math.floor(this.options.ackWaitMs / 3)),
    );
    heartbeat.unref();
    return heartbeat;
  }

  private flushBatch(b: EventBinding, batch: NonNullable<EventBinding['batch']>): void {
    if (batch.flush) clearImmediate(batch.flush);
    batch.flush = undefined;
    const items = batch.pending.splice(0, batch.pending.length);
    if (!items.length) return;
    const heartbeat = this.keepWorking(items.map((i) => i.m));
    this.track(
      this.processBatch(b, items)
        .catch((error: unknown) =>
          this.logger.error(
            `${b.durable}: batch of ${items.length} from seq ${items[0]?.m.seq} not settled: ${describeError(error)}`,
          ),
        )
        .finally(() => {
          clearInterval(heartbeat);
          this.release(b, items.length);
        }),
    );
  }

  /**
   * One handler call for the batch, through Nest's pipeline once. It resolves with nothing (every
   * message acked) or with a map of the failed messages' indexes to their errors (those are
   * nak'ed or dead-lettered one by one, the rest acked); a throw fails every message of the batch.
   */
  private async processBatch(b: EventBinding, items: BatchItem[]): Promise<void> {
    const handler = (b.handler ??= this.getHandlerByPattern(b.subject.name));
    let failures: ReadonlyMap<number, unknown> | undefined;
    try {
      if (!handler) throw new Error(`no handler registered for ${b.subject.name}`);
      const ctx = new JetStreamBatchContext(() => items.map((i) => this.info(b, i.m, i.workspaceId)));
      let result: unknown = await handler(
        items.map((i) => i.value),
        ctx,
      );
      if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: undefined });
      if (result instanceof Map) failures = result as ReadonlyMap<number, unknown>;
    } catch (error) {
      await Promise.all(items.map((i) => this.failed(b, i.m, error)));
      return;
    }
    const settling: Promise<void>[] = [];
    items.forEach((item, index) => {
      if (failures?.has(index)) settling.push(this.failed(b, item.m, failures.get(index)));
      else item.m.ack();
    });
    await Promise.all(settling);
  }

  private release(b: EventBinding, count: number): void {
    b.inFlight -= count;
    this.wake(b);
  }

  /** Copies the message to `cdp.dlq.<service>.<entity>.<action>.<workspace>` with the reason, then terminates it. */
  private async deadLetter(b: EventBinding, m: JsMsg, reason: string): Promise<void> {
    const { prefix, service, publishTimeoutMs, backoffMs } = this.options;
    const js = this.js;
    const { workspaceId } = parseSubject(prefix, m.subject);
    const subject = deadLetterSubject(prefix, service, b.subject.name, workspaceId);
    const h = natsHeaders();
    h.set(CdpHeaders.DlqReason, headerValue(reason) || 'unknown');
    h.set(CdpHeaders.OriginalSubject, m.subject);
    h.set(CdpHeaders.Consumer, b.durable);
    h.set(CdpHeaders.DeliveryCount, String(m.info.deliveryCount));
    h.set(CdpHeaders.OriginalStreamSequence, String(m.seq));
    const originalId = m.headers?.get(CdpHeaders.MsgId);
    if (originalId) h.set(CdpHeaders.OriginalMsgId, originalId);
    const schema = m.headers?.get(CdpHeaders.Schema);
    if (schema) h.set(CdpHeaders.Schema, schema);
    for (let attempt = 1; ; attempt++) {
      try {
        if (!js) throw new Error('not connected');
        // msgID: a crash between this publish and term() must not store the dead letter twice.
        await js.publish(subject, m.data, {
          msgID: `dlq:${b.stream}:${b.durable}:${m.seq}`,
          headers: h,
          timeout: publishTimeoutMs,
        });
        break;
      } catch (error) {
        if (attempt >= DLQ_PUBLISH_ATTEMPTS) {
          this.logger.error(
            `${b.durable}: could not dead-letter ${m.subject} seq ${m.seq} (${reason}): ${describeError(error)}`,
          );
          m.nak(backoffDelay(backoffMs, m.info.deliveryCount));
          return;
        }
        await sleep(100 * attempt);
      }
    }
    m.term();
    this.logger.warn(`${b.durable}: ${m.subject} seq ${m.seq} dead-lettered to ${subject}: ${reason}`);
  }

  private async processRpc(rpc: RpcSubject, msg: Msg): Promise<void> {
    if (!msg.reply) {
      this.logger.warn(`${rpc.name}: request on ${msg.subject} without a reply subject ignored`);
      return;
    }
    const fail = (status: number, message: string, issues?: ValidationIssue[]) => {
      const body: RpcErrorReply = { error: { status, message, ...(issues ? { issues } : {}) } };
      const h = natsHeaders();
      h.set(CdpHeaders.RpcError, String(status));
      msg.respond(JSON.stringify(body), { headers: h });
    };
    try {
      let data: unknown;
      try {
        data = JSON.parse(msg.string());
      } catch {
        return fail(400, `${rpc.name}: request body is not JSON`);
      }
      const checked = validate(rpc.request, data);
      if (!checked.ok)
        return fail(
          400,
          `invalid ${rpc.name}/v${rpc.version} request: ${issuesText(checked.issues)}`,
          checked.issues,
        );
      const { workspaceId } = parseSubject(this.options.prefix, msg.subject);
      const payloadWorkspace = (checked.value as { workspaceId?: unknown }).workspaceId;
      if (payloadWorkspace !== workspaceId) {
        return fail(
          400,
          `${rpc.name}: payload workspaceId "${String(payloadWorkspace)}" differs from subject workspace "${workspaceId}"`,
        );
      }
      const handler = this.getHandlerByPattern(rpc.name);
      if (!handler) return fail(501, `no handler for ${rpc.name}`);
      const headers = headersToRecord(msg.headers);
      const ctx = new JetStreamContext([
        {
          kind: 'rpc',
          subject: msg.subject,
          name: rpc.name,
          workspaceId,
          headers,
          deliveryCount: 1,
          maxDeliver: 1,
          msgId: undefined,
          streamSequence: 0,
          stream: '',
        },
      ]);
      let result: unknown;
      try {
        result = await handler(checked.value, ctx);
        if (isObservable(result)) result = await lastValueFrom(result, { defaultValue: undefined });
      } catch (error) {
        const status = statusOf(error);
        const message = describeError(error);
        if (status >= 500) this.logger.error(`${rpc.name} on ${msg.subject} failed: ${message}`);
        return fail(status, message);
      }
      msg.respond(JSON.stringify(result ?? null));
    } catch (error) {
      this.logger.error(`${rpc.name}: could not answer ${msg.subject}: ${describeError(error)}`);
      try {
        fail(500, describeError(error));
      } catch {
        // connection gone: the caller times out
      }
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.logger.warn(`NATS disconnected from ${s.server}`);
          this._status$.next('disconnected');
          this.emitter.emit('disconnect', s.server);
        } else if (s.type === 'reconnecting') {
          this._status$.next('reconnecting');
        } else if (s.type === 'reconnect') {
          this.logger.log(`NATS reconnected to ${s.server}`);
          this._status$.next('connected');
          this.emitter.emit('reconnect', s.server);
        } else if (s.type === 'error') {
          this.logger.error(`NATS error: ${describeError(s.error)}`);
          if (this.emitter.listenerCount('error') > 0) this.emitter.emit('error', s.error);
        }
      }
    } catch (error) {
      this.logger.error(`NATS status stream ended: ${describeError(error)}`);
    }
  }
}

/** Whether `work` settled within `ms` (it goes on either way). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
