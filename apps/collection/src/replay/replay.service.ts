import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { ReplayRequest, ReplayStatus } from '@cdp/contracts';
import { DependencyUnavailableError, invalidInput, withTimeout } from '@cdp/service-kit';
import { REPLAY_QUEUE, progressOf, type EventsReplayJobData, type ReplayJobData } from './replay.types';

const REDIS_TIMEOUT_MS = 3000;
const DAY_S = 24 * 3600;

/** Starts replays as BullMQ jobs and reports their progress. */
@Injectable()
export class ReplayService {
  private readonly logger = new Logger(ReplayService.name);
  private lastErrorLog = 0;

  constructor(@InjectQueue(REPLAY_QUEUE) private readonly queue: Queue<ReplayJobData>) {
    // Connection errors while Redis is down: ioredis reconnects; without a listener BullMQ prints each one.
    queue.on('error', (error: Error) => {
      const now = Date.now();
      if (now - this.lastErrorLog < 30_000) return;
      this.lastErrorLog = now;
      this.logger.warn(`replay queue: ${error.message}; reconnecting`);
    });
  }

  async start(workspaceId: string, request: ReplayRequest): Promise<ReplayStatus> {
    if (Date.parse(request.to) <= Date.parse(request.from))
      throw invalidInput('/to', 'must be later than from', 'Invalid request body');
    return this.enqueue({
      workspaceId,
      from: new Date(request.from).toISOString(),
      to: new Date(request.to).toISOString(),
      ...(request.eventNames && { eventNames: request.eventNames }),
    });
  }

  /** Re-announces every live customer's profile (cdp.profile.updated), for a consumer that rebuilds its copy. */
  startProfiles(workspaceId: string): Promise<ReplayStatus> {
    return this.enqueue({ kind: 'profiles', workspaceId });
  }

  private async enqueue(data: ReplayJobData): Promise<ReplayStatus> {
    const job = await this.redis(() =>
      this.queue.add('replay', data, {
        jobId: randomUUID(),
        attempts: 10,
        backoff: { type: 'exponential', delay: 1000 },
        // Kept a while so GET /v1/replay/:id can still answer after the end.
        removeOnComplete: { age: 7 * DAY_S },
        removeOnFail: { age: 30 * DAY_S },
      }),
    );
    return { id: job.id!, state: 'waiting', published: 0, done: false, ...this.describe(data) };
  }

  /** The replay's status, or null if there is none with this id in the workspace. */
  async status(workspaceId: string, id: string): Promise<ReplayStatus | null> {
    const job = await this.redis(() => this.queue.getJob(id));
    if (!job || job.data.workspaceId !== workspaceId) return null;
    const state = await this.redis(() => job.getState());
    const progress = progressOf(job.progress);
    return {
      id,
      state,
      published: progress.published,
      done: state === 'completed',
      ...this.describe(job.data),
      ...(job.failedReason && { failedReason: job.failedReason }),
    };
  }

  private describe(data: ReplayJobData) {
    if (data.kind === 'profiles') return { kind: 'profiles' as const };
    const { from, to, eventNames }: EventsReplayJobData = data;
    return { kind: 'events' as const, from, to, ...(eventNames && { eventNames }) };
  }

  /**
   * BullMQ's connection queues commands while Redis is down (a queued job would start later,
   * after the client was told it failed): refuse with 503 unless the connection is up.
   */
  private async redis<T>(command: () => Promise<T>): Promise<T> {
    try {
      const client = await withTimeout(this.queue.getBackend().client, REDIS_TIMEOUT_MS, 'redis');
      if (client.status !== 'ready') throw new Error(`redis connection is ${client.status}`);
      return await withTimeout(command(), REDIS_TIMEOUT_MS, 'redis');
    } catch (error) {
      throw new DependencyUnavailableError('redis', error);
    }
  }
}
