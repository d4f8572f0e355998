import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { EventStore } from '../history/event-store';
import { fromStored } from '../ingest/ingest.service';
import { PROFILE_STATE_COLUMNS, profileUpdate, type ProfileState } from '../profiles/profile-updates';
import {
  REPLAY_ID_HEADER,
  REPLAY_QUEUE,
  progressOf,
  type EventsReplayJobData,
  type ProfilesReplayJobData,
  type ReplayJobData,
} from './replay.types';

/** Events read and published per step; the only part of the range ever held in memory. */
const PAGE_SIZE = 500;

/**
 * Runs a replay: walks the workspace's history of the range in (received_at, id) order, page by
 * page, and re-publishes each event to cdp.event.ingested with Nats-Msg-Id
 * `replay:<replayId>:<eventId>` (so JetStream does not drop it as a duplicate of the original
 * announcement, while a retried page is still deduplicated); a profile replay walks the live
 * customers in id order and publishes each one's profile as it stands to cdp.profile.updated
 * (`replay:<replayId>:profile:<customerId>`, no changed traits). The position is saved as job
 * progress after each page: a retried or stalled job resumes there.
 */
@Processor(REPLAY_QUEUE, { concurrency: 2 })
export class ReplayProcessor extends WorkerHost implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ReplayProcessor.name);
  private stopping = false;
  private lastErrorLog = 0;

  constructor(
    private readonly db: DatabaseService,
    private readonly events: EventStore,
    private readonly publisher: JetStreamPublisher,
  ) {
    super();
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  /** Connection errors (Redis down): BullMQ reconnects by itself; without a listener it prints each one. */
  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 30_000) return;
    this.lastErrorLog = now;
    this.logger.warn(`replay worker: ${error.message}; retrying`);
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<ReplayJobData> | undefined, error: Error): void {
    this.logger.warn(`replay ${job?.id ?? '?'} attempt ${job?.attemptsMade ?? '?'} failed: ${error.message}`);
  }

  process(job: Job<ReplayJobData>, token?: string): Promise<{ published: number }> {
    const { data } = job;
    return data.kind === 'profiles'
      ? this.replayProfiles(job as Job<ProfilesReplayJobData>, token)
      : this.replayEvents(job as Job<EventsReplayJobData>, token);
  }

  /** Hands the job back when the app is stopping (not a failed attempt): the next run resumes from the cursor. */
  private async handBackIfStopping(job: Job<ReplayJobData>, token: string | undefined): Promise<void> {
    if (!this.stopping) return;
    await job.moveToDelayed(Date.now() + 1000, token);
    throw new DelayedError();
  }

  private async replayProfiles(
    job: Job<ProfilesReplayJobData>,
    token?: string,
  ): Promise<{ published: number }> {
    const replayId = job.id!;
    const { workspaceId } = job.data;
    const progress = progressOf(job.progress);
    let { published } = progress;
    let after = progress.cursor && 'customerId' in progress.cursor ? progress.cursor.customerId : '';
    for (;;) {
      await this.handBackIfStopping(job, token);
      const { rows: page } = await this.db.pool.query<ProfileState>(
        `SELECT ${PROFILE_STATE_COLUMNS} FROM customers c
        WHERE c.workspace_id = $1 AND c.id > $2 AND c.merged_into_id IS NULL AND c.erased_at IS NULL
        ORDER BY c.id LIMIT ${PAGE_SIZE}`,
        [workspaceId, after],
      );
      if (page.length === 0) break;
      await this.publisher.publishMany(
        page.map((state) => ({
          ...profileUpdate(state, [], `replay:${replayId}:profile:${state.id}`),
          headers: { [REPLAY_ID_HEADER]: replayId },
        })),
      );
      after = page.at(-1)!.id;
      published += page.length;
      await job.updateProgress({ published, cursor: { customerId: after }, done: false });
      if (page.length < PAGE_SIZE) break;
    }
    await job.updateProgress({ published, cursor: { customerId: after }, done: true });
    this.logger.log(`replay ${replayId} of ${workspaceId}: ${published} profiles re-published`);
    return { published };
  }

  private async replayEvents(job: Job<EventsReplayJobData>, token?: string): Promise<{ published: number }> {
    const replayId = job.id!;
    const { workspaceId, from, to, eventNames } = job.data;
    const range = { workspaceId, from: new Date(from), to: new Date(to), ...(eventNames && { eventNames }) };
    const progress = progressOf(job.progress);
    let { published } = progress;
    let cursor = progress.cursor && 'receivedAt' in progress.cursor ? progress.cursor : null;
    for (;;) {
      await this.handBackIfStopping(job, token);
      const page = await this.events.pageOfIngested(
        this.db.client,
        range,
        cursor && { receivedAt: new Date(cursor.receivedAt), id: BigInt(cursor.id) },
        PAGE_SIZE,
      );
      if (page.length === 0) break;
      await this.publisher.publishMany(
        page.map((event) => ({
          subject: Subjects.eventIngested,
          payload: fromStored(event),
          msgId: `replay:${replayId}:${event.id}`,
          headers: { [REPLAY_ID_HEADER]: replayId },
        })),
      );
      const last = page[page.length - 1]!;
      published += page.length;
      cursor = { receivedAt: last.receivedAt.toISOString(), id: last.id.toString() };
      await job.updateProgress({ published, cursor, done: false });
      if (page.length < PAGE_SIZE) break;
    }
    await job.updateProgress({ published, cursor, done: true });
    this.logger.log(
      `replay ${replayId} of ${workspaceId} [${from}, ${to}): ${published} events re-published`,
    );
    return { published };
  }
}
