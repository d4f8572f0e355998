import { Logger } from '@nestjs/common';
import {
  headers as natsHeaders,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import {
  assertValid,
  parseSubject,
  streamName,
  subjectFor,
  validate,
  type EventSubject,
  type PayloadOf,
  type ReplyOf,
  type RequestOf,
  type RpcSubject,
  issuesText,
  type ValidationIssue,
} from '@cdp/contracts';
import { connectNats, isNoStream, isUnavailable, withTimeout } from './connection';
import { describeError, MessagingUnavailableError, RpcError } from './errors';
import { CdpHeaders } from './headers';
import { resolveOptions, type MessagingOptions, type ResolvedMessagingOptions } from './options';
import { PubAckWaiter } from './pub-acks';
import { ensureStreams } from './streams';

export interface PublishOptions {
  /** Deduplication id (Nats-Msg-Id): a second publish with it within 2 minutes is not stored again. */
  msgId: string;
  headers?: Record<string, string>;
  /**
   * The payload already serialized as JSON by a caller that validated it (or each of its parts)
   * against the subject's schema: sent as given, neither validated nor serialized again. For hot
   * paths that have each part's JSON at hand anyway.
   */
  json?: string;
}

export interface PublishResult {
  /** Stream sequence of the stored message (of the first one, for a duplicate). */
  seq: number;
  /** True if the stream already had a message with this msgId. */
  duplicate: boolean;
}

export interface PublishItem<S extends EventSubject = EventSubject> extends PublishOptions {
  subject: S;
  payload: PayloadOf<S>;
}

export interface PublishManyOptions {
  /** Publishes awaiting their PubAck at once. Default 256. */
  window?: number;
}

const DEFAULT_WINDOW = 256;
const DEFAULT_PING_TIMEOUT_MS = 2000;

function workspaceOf(value: unknown): string {
  const ws = (value as { workspaceId?: unknown } | null)?.workspaceId;
  return typeof ws === 'string' ? ws : '';
}

/**
 * Publishes validated events to JetStream (awaiting the PubAck, deduplicated by msgId) and makes
 * core NATS requests. A plain class; `MessagingModule` provides a connected instance.
 */
export class JetStreamPublisher {
  private readonly logger = new Logger(JetStreamPublisher.name);
  private readonly options: ResolvedMessagingOptions;
  private readonly stop = new AbortController();
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  /** PubAcks of `publishMany`, on one inbox subscription of the connection. */
  private acks?: PubAckWaiter;
  private connecting?: Promise<void>;
  private closing?: Promise<void>;
  private connected = false;

  constructor(options: MessagingOptions) {
    this.options = resolveOptions(options);
  }

  /** Connects (reconnecting forever afterwards) and ensures the streams; rejects with MessagingUnavailableError if NATS cannot be reached within `connectTimeoutMs`. */
  async connect(): Promise<void> {
    if (this.closing) throw new MessagingUnavailableError('JetStreamPublisher is closed');
    this.connecting ??= this.doConnect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const nc = await connectNats(this.options, `${this.options.name}-publisher`, this.stop.signal);
    try {
      this.nc = nc;
      this.js = jetstream(nc);
      this.acks = new PubAckWaiter(nc, this.options.publishTimeoutMs);
      this.connected = true;
      void this.watchStatus(nc);
      await this.ensureStreams();
    } catch (error) {
      this.connected = false;
      this.nc = undefined;
      this.js = undefined;
      this.acks = undefined;
      await nc.close().catch(() => undefined);
      throw isUnavailable(error)
        ? new MessagingUnavailableError(`JetStream unavailable: ${describeError(error)}`, { cause: error })
        : error;
    }
  }

  /** Creates or updates every stream of contracts `Streams` (idempotent; also run by `connect`). */
  async ensureStreams(): Promise<void> {
    const nc = this.connection();
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, this.options.prefix, this.options.streamReplicas);
  }

  /**
   * Validates `payload` (ContractViolation before anything is sent), publishes it on
   * `[prefix.]<name>.<workspaceId>` with `Nats-Msg-Id: msgId` and `Cdp-Schema: <name>/v<version>`,
   * and resolves once JetStream has stored it.
   */
  async publish<S extends EventSubject>(
    subject: S,
    payload: PayloadOf<S>,
    opts: PublishOptions,
  ): Promise<PublishResult> {
    const { target, body, headers } = this.prepare(subject, payload, opts);
    const js = this.jetstream();
    const send = async () => {
      const ack = await withTimeout(
        js.publish(target, body, { msgID: opts.msgId, headers, timeout: this.options.publishTimeoutMs }),
        this.options.publishTimeoutMs + 500,
        () => new TimeoutError(),
      );
      return { seq: ack.seq, duplicate: ack.duplicate };
    };
    try {
      try {
        return await send();
      } catch (error) {
        // Someone deleted the stream (or it never existed): create it and try once more.
        if (!isNoStream(error)) throw error;
        await this.ensureStreams();
        return await send();
      }
    } catch (error) {
      if (isUnavailable(error)) {
        throw new MessagingUnavailableError(`could not publish ${target}: ${describeError(error)}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Publishes many events keeping up to `window` PubAcks outstanding; results in input order.
   * Every item is validated (unless it comes as `json`) before anything is sent. Rejects with the
   * first error after the publishes already started have settled. A subject no stream covers
   * (someone deleted the stream) gets the streams created and its items published once more.
   *
   * Cheaper per message than `publish`: the messages go out as plain publishes with a reply
   * subject on one inbox subscription, and one sweep times out the PubAcks not back within
   * `publishTimeoutMs`, instead of a request (with its own timer, promise and error objects) each.
   */
  async publishMany(items: readonly PublishItem[], opts: PublishManyOptions = {}): Promise<PublishResult[]> {
    const window = Math.max(1, opts.window ?? DEFAULT_WINDOW);
    const prepared = items.map((item) => this.prepare(item.subject, item.payload, item));
    const results = new Array<PublishResult>(items.length);
    const noStream: number[] = [];
    const send = (indexes: number[]) =>
      new Promise<unknown>((resolve) => {
        const acks = this.pubAcks();
        let next = 0;
        let outstanding = 0;
        let failure: { error: unknown } | undefined;
        const done = () => {
          if (outstanding === 0 && (failure || next >= indexes.length)) resolve(failure?.error);
        };
        const pump = () => {
          while (!failure && outstanding < window && next < indexes.length) {
            const i = indexes[next++]!;
            const { target, body, headers } = prepared[i]!;
            try {
              acks.send(target, body, headers, (error, ack) => {
                outstanding--;
                if (ack) results[i] = ack;
                else if (isNoStream(error)) noStream.push(i);
                else failure ??= { error };
                pump();
              });
              outstanding++;
            } catch (error) {
              failure ??= { error };
            }
          }
          done();
        };
        pump();
      });
    try {
      let error = await send(prepared.map((_, i) => i));
      if (!error && noStream.length) {
        // Someone deleted the stream (or it never existed): create it and try once more.
        await this.ensureStreams();
        const again = noStream.splice(0).sort((a, b) => a - b);
        error = await send(again);
        if (!error && noStream.length) error = new NoRespondersError(prepared[noStream[0]!]!.target);
      }
      if (error) throw error instanceof Error ? error : new Error(describeError(error));
      return results;
    } catch (error) {
      if (isUnavailable(error)) {
        throw new MessagingUnavailableError(`could not publish: ${describeError(error)}`, { cause: error });
      }
      throw error;
    }
  }

  /** Validated (unless the caller serialized it), its subject, body and headers. */
  private prepare<S extends EventSubject>(
    subject: S,
    payload: PayloadOf<S>,
    opts: PublishOptions,
  ): { target: string; body: string; headers: MsgHdrs } {
    const value =
      opts.json === undefined
        ? assertValid(`${subject.name}/v${subject.version}`, subject.schema, payload)
        : payload;
    if (!opts.msgId) throw new Error(`publish ${subject.name}: msgId is required`);
    const target = subjectFor(this.options.prefix, subject.name, workspaceOf(value));
    const h = natsHeaders();
    if (opts.headers) for (const [k, v] of Object.entries(opts.headers)) h.set(k, v);
    h.set(CdpHeaders.Schema, `${subject.name}/v${subject.version}`);
    h.set('Nats-Msg-Id', opts.msgId);
    return { target, body: opts.json ?? JSON.stringify(value), headers: h };
  }

  /**
   * Core NATS request to `[prefix.]<rpc.name>.<workspaceId>`. Resolves with the validated reply;
   * throws RpcError: 400 invalid request, the responder's status for an error reply, 502 invalid
   * reply, 503 no responder, 504 no reply within `timeoutMs`.
   */
  async request<R extends RpcSubject>(rpc: R, payload: RequestOf<R>, timeoutMs = 2000): Promise<ReplyOf<R>> {
    const checked = validate(rpc.request, payload);
    if (!checked.ok) {
      throw new RpcError(
        rpc.name,
        400,
        `invalid ${rpc.name}/v${rpc.version} request: ${issuesText(checked.issues)}`,
        checked.issues,
      );
    }
    let target: string;
    try {
      target = subjectFor(this.options.prefix, rpc.name, workspaceOf(checked.value));
    } catch (error) {
      throw new RpcError(rpc.name, 400, describeError(error));
    }
    const nc = this.connection();
    let reply;
    try {
      reply = await nc.request(target, JSON.stringify(checked.value), { timeout: timeoutMs });
    } catch (error) {
      if (error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders())) {
        throw new RpcError(target, 503, `no responder for ${target}`, undefined, { cause: error });
      }
      if (
        error instanceof TimeoutError ||
        (error instanceof RequestError && error.cause instanceof TimeoutError)
      ) {
        throw new RpcError(target, 504, `no reply from ${target} within ${timeoutMs} ms`, undefined, {
          cause: error,
        });
      }
      if (isUnavailable(error))
        throw new MessagingUnavailableError(`could not request ${target}: ${describeError(error)}`, {
          cause: error,
        });
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(reply.string());
    } catch {
      throw new RpcError(target, 502, `reply from ${target} is not JSON`);
    }
    const errorStatus = reply.headers?.get(CdpHeaders.RpcError);
    const err = (body as { error?: { status?: unknown; message?: unknown; issues?: unknown } } | null)?.error;
    if (
      errorStatus ||
      (err &&
        typeof err === 'object' &&
        typeof err.status === 'number' &&
        Object.keys(body as object).length === 1)
    ) {
      const status = typeof err?.status === 'number' ? err.status : Number(errorStatus) || 500;
      const message = typeof err?.message === 'string' ? err.message : `error reply from ${target}`;
      const issues: ValidationIssue[] | undefined = Array.isArray(err?.issues) ? err.issues : undefined;
      throw new RpcError(target, status, message, issues);
    }
    const valid = validate(rpc.reply, body);
    if (!valid.ok)
      throw new RpcError(
        target,
        502,
        `invalid ${rpc.name}/v${rpc.version} reply: ${issuesText(valid.issues)}`,
        valid.issues,
      );
    return valid.value;
  }

  /**
   * A stored event read back by its stream sequence (to redo work whose state was lost, e.g. a
   * queue that lost a job), validated against the subject's schema; undefined when the stream no
   * longer holds it (aged out, deleted) or that sequence holds another subject's message.
   */
  async readStored<S extends EventSubject>(subject: S, seq: number): Promise<PayloadOf<S> | undefined> {
    const prefix = this.options.prefix;
    let stored;
    try {
      // No API check: the connection found JetStream at connect, and a sweep reads many messages.
      const jsm = await jetstreamManager(this.connection(), { checkAPI: false });
      stored = await jsm.streams.getMessage(streamName(prefix, subject.stream), { seq });
    } catch (error) {
      if (isUnavailable(error))
        throw new MessagingUnavailableError(
          `could not read ${subject.name} #${seq}: ${describeError(error)}`,
          {
            cause: error,
          },
        );
      throw error;
    }
    if (!stored || parseSubject(prefix, stored.subject).name !== subject.name) return undefined;
    return assertValid(`${subject.name}/v${subject.version}`, subject.schema, stored.json());
  }

  /** Connected now (false while reconnecting or before `connect`). */
  isConnected(): boolean {
    return this.connected && !!this.nc && !this.nc.isClosed();
  }

  /** Round trip to the server (health checks); MessagingUnavailableError if none within `timeoutMs`. */
  async ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<void> {
    const nc = this.connection();
    try {
      await withTimeout(nc.flush(), timeoutMs, () => new TimeoutError());
    } catch (error) {
      throw new MessagingUnavailableError(
        `NATS did not answer a ping within ${timeoutMs} ms: ${describeError(error)}`,
        { cause: error },
      );
    }
  }

  /** Waits for outstanding publishes, then closes the connection. Idempotent. */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      await this.connecting?.catch(() => undefined);
      await this.acks?.idle();
      const nc = this.nc;
      this.connected = false;
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    })();
    return this.closing;
  }

  private connection(): NatsConnection {
    if (this.closing) throw new MessagingUnavailableError('JetStreamPublisher is closed');
    const nc = this.nc;
    if (!nc) throw new MessagingUnavailableError('JetStreamPublisher is not connected: call connect() first');
    if (nc.isClosed()) throw new MessagingUnavailableError('NATS connection is closed');
    return nc;
  }

  private pubAcks(): PubAckWaiter {
    this.connection();
    if (!this.acks)
      throw new MessagingUnavailableError('JetStreamPublisher is not connected: call connect() first');
    return this.acks;
  }

  private jetstream(): JetStreamClient {
    this.connection();
    if (!this.js)
      throw new MessagingUnavailableError('JetStreamPublisher is not connected: call connect() first');
    return this.js;
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.connected = false;
          this.logger.warn(`NATS disconnected from ${s.server}`);
        } else if (s.type === 'reconnect') {
          this.connected = true;
          this.logger.log(`NATS reconnected to ${s.server}`);
        } else if (s.type === 'error') {
          this.logger.error(`NATS error: ${describeError(s.error)}`);
        }
      }
    } catch (error) {
      this.logger.error(`NATS status stream ended: ${describeError(error)}`);
    }
    this.connected = false;
  }
}
