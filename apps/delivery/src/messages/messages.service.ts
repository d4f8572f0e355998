import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Semaphore } from 'async-mutex';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { v7 as timeOrderedUuid } from 'uuid';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { MessageStatus, Prisma, type Message, type Template } from '@cdp/db';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import {
  RecipientGoneError,
  SendError,
  type ChannelAdapter,
  type ChannelName,
} from '../channels/channel-adapter';
import type { DeliveryConfig } from '../config';
import { ChannelRegistry } from '../channels/channel-registry';
import { DELIVERY_QUEUES, messagesOf, type SendJob, type SendJobData } from '../queues/delivery-queues';
import { ProviderRateLimiter } from '../queues/provider-rate-limiter';
import { SendQueues } from '../queues/send-queues';
import { TrackingLinks } from '../receipts/tracking-links';
import { TemplateRenderer, type RenderedContent, type TemplateSource } from '../templates/template-renderer';
import { TemplatesService } from '../templates/templates.service';
import { FaultInjector } from './fault-injector';
import { LedgerGroupWrites } from './ledger-group-writes';
import { LEDGER_COLUMNS, type LedgerRow } from './ledger-row';
import { recipientProblem } from './recipient';
import { StatusAnnouncer, type AnnouncedRow } from './status-announcer';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

/** A request taken from the stream, with its stream sequence (recorded, to rebuild a lost job from it). */
export interface TakenRequest {
  request: Requested;
  seq?: number;
}
/** Statuses after which the ledger never sends the message again. */
const FINAL = new Set<string>([
  'sent',
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'failed',
  'unknown',
]);

/**
 * For an adapter that sends only so many at once (an SMTP pool's connections): a job claims its
 * messages in chunks of this many times that number. Each claim and `sent` mark is a statement
 * and a commit, which cost more per message the smaller the chunk.
 */
const CLAIM_CHUNK_FACTOR = 5;
/**
 * ...and the messages of one such adapter that are claimed and not yet through their send stay
 * within this many chunks per process: a crash leaves them `unknown`, the ones still waiting for a
 * connection included, so this bounds what a crash makes unknown without a send having started.
 */
const CLAIM_WINDOW_CHUNKS = 2;

/** How many messages a job claims at a time for the adapter; undefined: all it was granted. */
const claimChunkOf = (adapter: ChannelAdapter): number | undefined =>
  adapter.parallelism ? adapter.parallelism * CLAIM_CHUNK_FACTOR : undefined;

/** A ledger row to insert (all text; the statement casts). */
interface NewRow {
  id: string;
  idempotencyKey: string;
  workspaceId: string;
  campaignId: string | null;
  campaignRunId: string | null;
  customerId: string;
  channel: ChannelName;
  recipient: string;
  status: 'queued' | 'failed';
  error?: string;
  requestedAt: string;
  sendJobId?: string;
  requestSeq?: number;
}

/** A request checked and rendered, or the reason it can never be sent. */
type Prepared = { request: Requested } & ({ content: RenderedContent } | { problem: string });

/**
 * The send ledger; see "One send per message" in the README. A batch of requests claims its rows
 * (unique idempotency keys) in one statement, each row naming the job that carries it
 * (`sendJobId`), and enqueues those jobs (one per workspace and channel, up to DELIVERY_BATCH_SIZE
 * messages). A job marks its rows `sending` and commits before the provider calls. A job that finds
 * one of its rows still `sending` knows an earlier attempt died after the send started: the row
 * becomes `unknown` and is reported, never resent. Rows already final are never sent again, so a
 * retried batch sends only what is still `queued`.
 */
@Injectable()
export class MessagesService {
  /** Claimed messages not yet through their send, per adapter that limits its parallelism. */
  private readonly claimWindows = new WeakMap<ChannelAdapter, Semaphore>();

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    private readonly db: DatabaseService,
    private readonly channels: ChannelRegistry,
    private readonly renderer: TemplateRenderer,
    private readonly trackingLinks: TrackingLinks,
    private readonly templates: TemplatesService,
    private readonly statuses: StatusAnnouncer,
    private readonly queues: SendQueues,
    private readonly limiter: ProviderRateLimiter,
    private readonly faults: FaultInjector,
    private readonly ledgerWrites: LedgerGroupWrites,
  ) {}

  /**
   * cdp.delivery.requested, a batch of them: claims the ledger rows in one statement and enqueues
   * their send jobs (both idempotent). A request that can never be sent (bad recipient, template
   * error) gets a `failed` row at once and no job.
   */
  async acceptMany(taken: readonly TakenRequest[]): Promise<void> {
    // A request taken twice at once (a redelivery beside its original) is recorded by its first sequence.
    const seqOf = new Map<string, number | undefined>();
    for (const t of taken)
      if (!seqOf.has(t.request.idempotencyKey)) seqOf.set(t.request.idempotencyKey, t.seq);
    const unique = [...new Map(taken.map(({ request: r }) => [r.idempotencyKey, r])).values()];
    // Requests of a batch naming the same template share one look-up of its variant.
    const variants = new Map<string, Promise<Template | undefined>>();
    const prepared = await Promise.all(unique.map((r) => this.prepare(r, variants)));
    const jobs = new Map<string, { channel: ChannelName; id: string; messages: SendJob[] }>();
    const rows: NewRow[] = [];
    const contentOf = new Map<string, RenderedContent>();
    for (const p of prepared) {
      const { request } = p;
      const row: NewRow = {
        // Time-ordered: new ledger rows go to the right edge of the primary key's index, not a
        // random page of it (fewer pages touched and written per insert).
        id: timeOrderedUuid(),
        idempotencyKey: request.idempotencyKey,
        workspaceId: request.workspaceId,
        campaignId: request.campaignId ?? null,
        campaignRunId: request.campaignRunId ?? null,
        customerId: request.customerId,
        channel: request.channel,
        recipient: request.recipient,
        requestedAt: request.requestedAt,
        status: 'queued',
        requestSeq: seqOf.get(request.idempotencyKey),
      };
      if ('problem' in p) {
        rows.push({ ...row, status: 'failed', error: p.problem });
        continue;
      }
      contentOf.set(request.idempotencyKey, p.content);
      const job = this.jobFor(jobs, request.workspaceId, request.channel);
      job.messages.push({ messageId: row.id, ...p.content });
      rows.push({ ...row, sendJobId: job.id });
    }
    const insertedIds = await this.insertNew(rows);
    const inserted = rows.filter((r) => insertedIds.has(r.id));
    const toEnqueue = [...jobs.values()]
      .map((j) => ({ ...j, messages: j.messages.filter((m) => insertedIds.has(m.messageId)) }))
      .filter((j) => j.messages.length);
    // Requests seen before: only a queued row whose job never made it to Redis needs one now.
    const insertedKeys = new Set(inserted.map((m) => m.idempotencyKey));
    const seen = unique.filter((r) => !insertedKeys.has(r.idempotencyKey) && contentOf.has(r.idempotencyKey));
    if (seen.length) toEnqueue.push(...(await this.orphans(seen, contentOf)));
    for (const channel of new Set(toEnqueue.map((j) => j.channel)))
      await this.queues.enqueueBatches(
        channel,
        toEnqueue.filter((j) => j.channel === channel),
      );
    const failed = inserted.filter((r) => r.status === 'failed').map((r) => r.id);
    if (failed.length)
      await this.statuses.announce(
        await this.ledger(`SELECT ${LEDGER_COLUMNS} FROM messages WHERE id = ANY($1::text[])`, [failed]),
      );
  }

  /**
   * One attempt of a send job (one message, or a batch). Only the job a row names may send it.
   * Throws DelayedError when the account's rate holds part of the batch back, the first transient
   * SendError to retry the messages that failed with one (the others are final by then).
   */
  async send(job: Job<SendJobData>, token: string | undefined): Promise<void> {
    const parts = new Map(messagesOf(job.data).map((m) => [m.messageId, m]));
    const rows = (
      await this.ledger(
        `SELECT ${LEDGER_COLUMNS} FROM messages WHERE id = ANY($1::text[])`,
        [[...parts.keys()]],
        'delivery-ledger-job-rows',
      )
    )
      // A row whose job changed (re-enqueued after a lost job, a replay) belongs to that job.
      .filter((row) => (row.sendJobId ?? row.id) === job.id);
    const pending: LedgerRow[] = [];
    const interrupted: string[] = [];
    const final: LedgerRow[] = [];
    for (const row of rows) {
      // Final already: announce again, a crash may have come between the commit and the publish.
      if (FINAL.has(row.status)) final.push(row);
      else if (row.status === 'sending') interrupted.push(row.id);
      else pending.push(row);
    }
    if (final.length) await this.statuses.announce(final);
    if (interrupted.length) {
      const unknown = await this.ledger(
        `UPDATE messages SET status = 'unknown', error = $2, updated_at = now()
         WHERE id = ANY($1::text[]) AND status = 'sending'
         RETURNING ${LEDGER_COLUMNS}`,
        [interrupted, 'an earlier attempt died after the send started; not resent (at most once)'],
      );
      await this.statuses.announce(unknown);
    }
    if (!pending.length) return;

    let retry: Error | undefined;
    let delayMs = 0;
    const failed: string[] = [];
    // A batch is one workspace and channel; a job of another shape is still sent correctly.
    for (const group of groupBy(pending, (m) => `${m.workspaceId}|${m.channel}`)) {
      const { workspaceId, channel } = group[0]!;
      const account = await this.channels.accountFor(workspaceId, channel);
      if (!account) {
        await this.failAll(group, `no provider configured for channel ${channel}`);
        continue;
      }
      const grant = await this.limiter.take(
        workspaceId,
        account.adapter.provider,
        group.length,
        account.rateLimitPerSecond,
      );
      if (grant.granted < group.length) delayMs = Math.max(delayMs, grant.waitMs);
      const granted = group.slice(0, grant.granted);
      const step = claimChunkOf(account.adapter) ?? granted.length;
      for (let i = 0; i < granted.length; i += step) {
        const outcome = await this.sendNow(job, granted.slice(i, i + step), account.adapter, parts);
        retry ??= outcome.retry;
        failed.push(...outcome.failed);
      }
    }
    if (retry) throw retry;
    // Nothing of the job went out: it ends failed in BullMQ too, with the reason.
    if (failed.length === pending.length) throw new UnrecoverableError(failed[0]);
    if (delayMs > 0) {
      // The rest back to the delayed set without using up an attempt.
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
  }

  /**
   * Message counts per ledger status of a workspace (every status listed, zeros included), of the
   * messages requested in [since, until), of a channel or a campaign run where given. A time range
   * reads only its part of the `(workspace_id, requested_at)` index.
   */
  async stats(
    workspaceId: string,
    filter: {
      since?: Date | undefined;
      until?: Date | undefined;
      channel?: ChannelName | undefined;
      campaignRunId?: string | undefined;
    } = {},
  ): Promise<Record<string, number>> {
    const { since, until, channel, campaignRunId } = filter;
    const groups = await this.db.client.message.groupBy({
      by: ['status'],
      where: {
        workspaceId,
        ...((since || until) && {
          requestedAt: { ...(since && { gte: since }), ...(until && { lt: until }) },
        }),
        ...(channel && { channel }),
        ...(campaignRunId !== undefined && { campaignRunId }),
      },
      _count: { _all: true },
    });
    const counts: Record<string, number> = Object.fromEntries(
      Object.values(MessageStatus).map((s) => [s, 0]),
    );
    for (const g of groups) counts[g.status] = g._count._all;
    counts.total = groups.reduce((sum, g) => sum + g._count._all, 0);
    return counts;
  }

  /** Waits for the rows' places in the adapter's claim window, then claims and sends them. */
  private async sendNow(
    job: Job<SendJobData>,
    rows: LedgerRow[],
    adapter: ChannelAdapter,
    parts: Map<string, SendJob>,
  ): Promise<{ retry?: Error; failed: string[] }> {
    if (!rows.length) return { failed: [] };
    const window = this.claimWindowOf(adapter);
    await window?.acquire(rows.length);
    // Each claimed message gives its place in the window back once its send has ended.
    let held = rows.length;
    const release = (count: number) => {
      const n = Math.min(count, held);
      held -= n;
      if (n > 0) window?.release(n);
    };
    try {
      return await this.claimAndSend(job, rows, adapter, parts, () => release(1));
    } finally {
      release(held);
    }
  }

  /** An account's window of claimed messages (see CLAIM_WINDOW_CHUNKS); none for unlimited adapters. */
  private claimWindowOf(adapter: ChannelAdapter): Semaphore | undefined {
    const chunk = claimChunkOf(adapter);
    if (!chunk) return undefined;
    let window = this.claimWindows.get(adapter);
    if (!window) {
      window = new Semaphore(chunk * CLAIM_WINDOW_CHUNKS);
      this.claimWindows.set(adapter, window);
    }
    return window;
  }

  /**
   * Claims the rows, sends them at once, records each outcome. Returns the first transient error
   * when some message is to be tried again (its row is back to `queued`), and why the ones failed
   * for good did. `sendEnded` is called once per row: unclaimed, or its send over.
   */
  private async claimAndSend(
    job: Job<SendJobData>,
    rows: LedgerRow[],
    adapter: ChannelAdapter,
    parts: Map<string, SendJob>,
    sendEnded: () => void,
  ): Promise<{ retry?: Error; failed: string[] }> {
    const claimed = await this.ledgerWrites.claim(
      job.id!,
      rows.map((r) => r.id),
      adapter.provider,
    );
    // Rows not claimed changed under us (a replay reset); their next job decides.
    const mine = rows.filter((r) => claimed.has(r.id));
    for (let i = mine.length; i < rows.length; i++) sendEnded();
    if (!mine.length) return { failed: [] };
    this.faults.point('after-claim');

    const outcomes = await Promise.all(
      mine.map(async (message) => {
        const part = parts.get(message.id)!;
        // Email gets click tracking, the open pixel and RFC 8058 one-click unsubscribe headers.
        const content =
          message.channel === 'email'
            ? this.trackingLinks.instrumentEmail(part.html, part.text, message)
            : { text: part.text, ...(part.html !== undefined && { html: part.html }), headers: {} };
        try {
          const result = await adapter.send({
            messageId: message.id,
            idempotencyKey: message.idempotencyKey,
            workspaceId: message.workspaceId,
            customerId: message.customerId,
            channel: message.channel,
            recipient: message.recipient,
            ...(part.subject !== undefined && { subject: part.subject }),
            text: content.text,
            ...(content.html !== undefined && { html: content.html }),
            headers: content.headers,
          });
          this.faults.point('after-provider-accept');
          return { ok: true as const, message, providerMessageId: result.providerMessageId };
        } catch (error) {
          return { ok: false as const, message, error };
        } finally {
          sendEnded();
        }
      }),
    );

    const sent = outcomes.flatMap((o) =>
      o.ok
        ? [{ id: o.message.id, providerMessageId: o.providerMessageId, lookUp: adapter.receiptsByProviderId }]
        : [],
    );
    if (sent.length) {
      const recorded = await this.ledgerWrites.markSent(sent);
      this.faults.point('before-status-publish');
      const claimedRows = new Map(mine.map((r) => [r.id, r]));
      await this.statuses.announce(
        recorded.map((facts): AnnouncedRow => ({ ...claimedRows.get(facts.id)!, ...facts, error: null })),
      );
    }

    const failures = outcomes.flatMap((o) => (o.ok ? [] : [o]));
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const retryable = failures.filter(
      (f) => !lastAttempt && !(f.error instanceof SendError && f.error.permanent),
    );
    const final = failures.filter((f) => !retryable.includes(f));
    // The provider did not take these: safe to send again on the next attempt.
    if (retryable.length)
      await this.db.pool.query(
        `UPDATE messages SET status = 'queued', error = v.error, updated_at = now()
         FROM unnest($1::text[], $2::text[]) AS v(id, error) WHERE messages.id = v.id`,
        [retryable.map((f) => f.message.id), retryable.map((f) => reasonOf(f.error))],
      );
    if (final.length) await this.deadLetter(job, final, parts);
    return {
      ...(retryable.length && { retry: asError(retryable[0]!.error) }),
      failed: final.map((f) => reasonOf(f.error)),
    };
  }

  /** Fails the messages for good, each with a dead letter that can replay it alone. */
  private async deadLetter(
    job: Job<SendJobData>,
    failures: { message: LedgerRow; error: unknown }[],
    parts: Map<string, SendJob>,
  ): Promise<void> {
    const failed = await this.db.client.$transaction(async (tx) => {
      await tx.deadLetter.createMany({
        data: failures.map(({ message, error }) => ({
          workspaceId: message.workspaceId,
          messageId: message.id,
          queue: DELIVERY_QUEUES[message.channel],
          reason: reasonOf(error),
          attempts: job.attemptsMade + 1,
          payload: parts.get(message.id) as unknown as Prisma.InputJsonValue,
        })),
      });
      return Promise.all(
        failures.map(async ({ message, error }) => ({
          ...(await tx.message.update({
            where: { id: message.id },
            data: { status: 'failed', error: reasonOf(error) },
          })),
          ...(error instanceof RecipientGoneError && { goneRecipient: message.recipient }),
        })),
      );
    });
    await this.statuses.announce(failed);
  }

  private async failAll(rows: LedgerRow[], reason: string): Promise<void> {
    const failed = await this.ledger(
      `UPDATE messages SET status = 'failed', error = $2, updated_at = now()
       WHERE id = ANY($1::text[]) AND status = 'queued'
       RETURNING ${LEDGER_COLUMNS}`,
      [rows.map((r) => r.id), reason],
    );
    await this.statuses.announce(failed);
  }

  /**
   * The request checked and rendered. A bad recipient or template is the request's own problem
   * (a `failed` row); a look-up that fails (Postgres down) rejects, so the request is redelivered.
   */
  private async prepare(
    request: Requested,
    variants: Map<string, Promise<Template | undefined>>,
  ): Promise<Prepared> {
    const problem = recipientProblem(request.channel, request.recipient);
    if (problem) return { request, problem };
    const template = await this.templateOf(request, variants);
    if (typeof template === 'string') return { request, problem: `template: ${template}` };
    try {
      return {
        request,
        content: this.renderer.renderAll(template, request.variables),
      };
    } catch (e) {
      return { request, problem: `template: ${(e as Error).message}` };
    }
  }

  /** The open batch job of a workspace and channel, or a new one when it is full. */
  private jobFor(
    jobs: Map<string, { channel: ChannelName; id: string; messages: SendJob[] }>,
    workspaceId: string,
    channel: ChannelName,
  ) {
    const key = `${workspaceId}|${channel}`;
    let job = jobs.get(key);
    if (!job || job.messages.length >= this.config.DELIVERY_BATCH_SIZE) {
      if (job) jobs.set(`${key}|${randomUUID()}`, job);
      job = { channel, id: randomUUID(), messages: [] };
      jobs.set(key, job);
    }
    return job;
  }

  /**
   * Rows of requests seen before that are still queued but whose job is not in Redis (the process
   * died between the ledger commit and the enqueue): they move to a new job, enqueued by the caller.
   */
  private async orphans(
    seen: Requested[],
    contentOf: Map<string, RenderedContent>,
  ): Promise<{ channel: ChannelName; id: string; messages: SendJob[] }[]> {
    const queued = await this.db.client.message.findMany({
      where: { idempotencyKey: { in: seen.map((r) => r.idempotencyKey) }, status: 'queued' },
    });
    const lost: Message[] = [];
    for (const row of queued)
      if (!(await this.queues.hasJob(row.channel, row.sendJobId ?? row.id))) lost.push(row);
    const jobs = new Map<string, { channel: ChannelName; id: string; messages: SendJob[] }>();
    for (const row of lost) {
      const job = this.jobFor(jobs, row.workspaceId, row.channel);
      job.messages.push({ messageId: row.id, ...contentOf.get(row.idempotencyKey)! });
    }
    for (const job of jobs.values())
      await this.db.client.message.updateMany({
        where: { id: { in: job.messages.map((m) => m.messageId) }, status: 'queued' },
        data: { sendJobId: job.id },
      });
    return [...jobs.values()];
  }

  /** The template a request names (its locale's variant) or carries, or why it has none. */
  private async templateOf(
    request: Requested,
    variants: Map<string, Promise<Template | undefined>>,
  ): Promise<TemplateSource | string> {
    if (request.templateId) {
      const key = `${request.workspaceId}|${request.templateId}|${request.locale ?? ''}`;
      let variant = variants.get(key);
      if (!variant) {
        variant = this.templates.variantFor(request.workspaceId, request.templateId, request.locale);
        variants.set(key, variant);
      }
      const template = await variant;
      if (!template) return `template ${request.templateId} not found`;
      if (template.channel !== request.channel)
        return `template ${request.templateId} is for ${template.channel}, not ${request.channel}`;
      return template;
    }
    return request.template ?? 'the request has neither template nor templateId';
  }

  /**
   * Inserts the rows whose idempotency key is new, in one statement; returns the ids inserted.
   * Only the ids come back: reading back every column of every row was a visible share of the CPU
   * per message, and the caller has the rows.
   */
  private async insertNew(rows: NewRow[]): Promise<Set<string>> {
    const column = <K extends keyof NewRow>(key: K) => rows.map((r) => r[key] ?? null);
    const { rows: inserted } = await this.db.pool.query<{ id: string }>({
      name: 'delivery-ledger-insert',
      text: `INSERT INTO messages (id, idempotency_key, workspace_id, campaign_id, campaign_run_id, customer_id,
        channel, recipient, status, error, requested_at, send_job_id, request_seq, updated_at)
      SELECT v.id, v.key, v.ws, v.campaign, v.run, v.customer, v.channel::delivery_channel, v.recipient,
        v.status::message_status, v.error, v.requested::timestamptz, v.job, v.seq, now()
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])
        AS v(id, key, ws, campaign, run, customer, channel, recipient, status, error, requested, job, seq)
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id`,
      values: [
        column('id'),
        column('idempotencyKey'),
        column('workspaceId'),
        column('campaignId'),
        column('campaignRunId'),
        column('customerId'),
        column('channel'),
        column('recipient'),
        column('status'),
        column('error'),
        column('requestedAt'),
        column('sendJobId'),
        column('requestSeq'),
      ],
    });
    return new Set(inserted.map((r) => r.id));
  }

  /**
   * A ledger statement on the pg pool rather than Prisma: its query compiler costs more CPU than
   * the rest of a send (see the README's Benchmark section). Returns the rows in LEDGER_COLUMNS.
   * A `name` makes it a prepared statement on each connection, parsed and planned once: the hot
   * statements run thousands of times a second.
   */
  private async ledger(text: string, values: unknown[], name?: string): Promise<LedgerRow[]> {
    return (await this.db.pool.query<LedgerRow>({ text, values, ...(name && { name }) })).rows;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}
