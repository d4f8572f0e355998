import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, SERVICE_CONFIG } from '@cdp/service-kit';
import type { ChannelName } from '../channels/channel-adapter';
import type { DeliveryConfig } from '../config';
import { SendQueues } from '../queues/send-queues';
import { LEDGER_COLUMNS, type LedgerRow } from './ledger-row';
import { MessagesService, type TakenRequest } from './messages.service';
import { StatusAnnouncer } from './status-announcer';

/** Ledger rows read and settled per statement of a sweep. */
const PAGE = 1000;
const NOT_SENT =
  'its send job was lost from Redis before it ran and could not be rebuilt from its request (no longer on the stream, or no longer renderable); not sent';
const MAYBE_SENT = 'its send job was lost from Redis after the send started; not resent (at most once)';

/**
 * Rebuilds or settles the messages whose send job Redis lost. A job holds its messages' rendered
 * content; left alone such a message would stay `queued` (or `sending`) with no status ever
 * published. When Redis comes back with a new run id (a restart or failover, found at each
 * (re)connection), this waits DELIVERY_LOST_JOB_GRACE_MS (a request taken just before may still be
 * between its ledger commit and its enqueue, or be redelivered and re-enqueued), then, for each row
 * older than the restart whose job is gone: a `queued` one gets a new job built from its request,
 * read back from the stream by the sequence the ledger recorded (the intake's own path: rendered
 * again, the row pointed at the new job); one whose request the stream no longer holds (older than
 * its 14 days, or a row from before sequences were recorded) becomes `failed`; a `sending` one
 * becomes `unknown` (the send may have gone out: never resent). Statuses are published. Every
 * replica may sweep at once: a row is settled only if it is still in the state and job it was read
 * in, and rebuilding is the intake's idempotent path.
 */
@Injectable()
export class LostJobsSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LostJobsSweeper.name);
  private timer?: NodeJS.Timeout;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
    private readonly db: DatabaseService,
    private readonly queues: SendQueues,
    private readonly statuses: StatusAnnouncer,
    private readonly messages: MessagesService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.queues.onRedisReady(() => void this.checkRedis());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  private async checkRedis(): Promise<void> {
    const seen = await this.queues.redisRunIdChanged().catch((e: Error) => {
      this.logger.warn(`could not read Redis's run id: ${e.message}`);
      return undefined;
    });
    if (seen?.changed) this.schedule(seen.runId, new Date());
  }

  /** Sweeps rows last changed before `before` once the grace has passed; again later if it fails. */
  private schedule(runId: string, before: Date): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // After any sweep still running (Redis may restart twice within one): one at a time, and
      // shutdown waits for all of them.
      this.sweeping = this.sweeping
        .then(() => this.sweepFor(runId, before))
        .catch((e: Error) => {
          this.logger.warn(`sweep for lost send jobs failed, trying again: ${e.message}`);
          this.schedule(runId, before);
        });
    }, this.config.DELIVERY_LOST_JOB_GRACE_MS);
    this.timer.unref();
  }

  /** One sweep after Redis showed `runId`; the run id is recorded once the sweep has gone through. */
  private async sweepFor(runId: string, before: Date): Promise<void> {
    const settled = await this.sweep(before);
    if (settled.rebuilt || settled.failed || settled.unknown)
      this.logger.warn(
        `Redis (run ${runId}) had lost send jobs: ${settled.rebuilt} messages queued again from their requests, ${settled.failed} failed (not sent), ${settled.unknown} unknown`,
      );
    if (!this.stopped) await this.queues.recordRedisRunId(runId);
  }

  /** Rebuilds or settles the rows last changed before `before` whose send job is gone; returns how many. */
  async sweep(before: Date): Promise<{ rebuilt: number; failed: number; unknown: number }> {
    const settled = { rebuilt: 0, failed: 0, unknown: 0 };
    let after = '';
    while (!this.stopped) {
      const { rows } = await this.db.pool.query<LedgerRow & { requestSeq: string | null }>(
        `SELECT ${LEDGER_COLUMNS}, request_seq::text AS "requestSeq" FROM messages
         WHERE status IN ('queued', 'sending') AND updated_at < $1 AND id > $2
         ORDER BY id LIMIT ${PAGE}`,
        [before, after],
      );
      if (!rows.length) break;
      after = rows[rows.length - 1]!.id;
      const lost = await this.withoutJob(rows);
      // Rebuilt rows name their new job, so the statement below leaves them alone.
      const rebuilding = await this.rebuild(lost.filter((r) => r.status === 'queued'));
      if (lost.length) {
        const { rows: changed } = await this.db.pool.query<LedgerRow>(
          `UPDATE messages SET
             status = CASE WHEN status = 'queued' THEN 'failed'::message_status ELSE 'unknown'::message_status END,
             error = CASE WHEN status = 'queued' THEN $3 ELSE $4 END,
             updated_at = now()
           FROM unnest($1::text[], $2::text[]) AS lost(message_id, job_id)
           WHERE messages.id = lost.message_id AND messages.status IN ('queued', 'sending')
             AND coalesce(messages.send_job_id, messages.id) = lost.job_id AND messages.updated_at < $5
           RETURNING ${LEDGER_COLUMNS}`,
          [lost.map((r) => r.id), lost.map(jobIdOf), NOT_SENT, MAYBE_SENT, before],
        );
        for (const row of changed) settled[row.status as 'failed' | 'unknown']++;
        const settledIds = new Set(changed.map((r) => r.id));
        settled.rebuilt += rebuilding.filter((id) => !settledIds.has(id)).length;
        await this.statuses.announce(changed);
      }
      if (rows.length < PAGE) break;
    }
    return settled;
  }

  /**
   * Queued rows whose request the stream still holds go through the intake again (its path for a
   * request seen before whose job is gone: render, new job, row pointed at it). Returns the ids
   * of the rows it took up. NATS being down fails the sweep (tried again later), not the rows.
   */
  private async rebuild(rows: (LedgerRow & { requestSeq: string | null })[]): Promise<string[]> {
    const taken: TakenRequest[] = [];
    const ids: string[] = [];
    for (const row of rows) {
      if (row.requestSeq === null) continue;
      const seq = Number(row.requestSeq);
      const request = await this.publisher
        .readStored(Subjects.deliveryRequested, seq)
        .catch((error: Error) => {
          if (error.name !== 'ContractViolation') throw error;
          this.logger.warn(
            `request #${seq} of message ${row.id} no longer fits its schema: ${error.message}`,
          );
          return undefined;
        });
      if (request?.idempotencyKey !== row.idempotencyKey) continue;
      taken.push({ request, seq });
      ids.push(row.id);
    }
    if (taken.length) await this.messages.acceptMany(taken);
    return ids;
  }

  /** The rows whose job is in none of the queue's states (waiting, delayed, active, kept finished). */
  private async withoutJob<R extends LedgerRow>(rows: R[]): Promise<R[]> {
    const jobs = new Map<string, { channel: ChannelName; rows: R[] }>();
    for (const row of rows) {
      const key = `${row.channel}|${jobIdOf(row)}`;
      const job = jobs.get(key) ?? { channel: row.channel, rows: [] };
      job.rows.push(row);
      jobs.set(key, job);
    }
    const lost: R[] = [];
    for (const job of jobs.values())
      if (!(await this.queues.hasJob(job.channel, jobIdOf(job.rows[0]!)))) lost.push(...job.rows);
    return lost;
  }
}

/** A row without a job id is from before batch jobs: its job's id is the row's. */
const jobIdOf = (row: LedgerRow): string => row.sendJobId ?? row.id;
