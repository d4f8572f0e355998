import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { DeadLetterPage } from '@cdp/contracts';
import { DatabaseService, keysetPage, olderThanCursor } from '@cdp/service-kit';
import type { SendJob } from './delivery-queues';
import { SendQueues } from './send-queues';

/** Jobs that gave up, newest first, and their replay. */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly db: DatabaseService,
    private readonly queues: SendQueues,
  ) {}

  async list(workspaceId: string, limit: number, cursor?: string): Promise<DeadLetterPage> {
    const rows = await this.db.client.deadLetter.findMany({
      where: { workspaceId, ...olderThanCursor('createdAt', cursor) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    });
    const page = keysetPage(rows, limit, (r) => r.createdAt);
    return {
      items: page.rows.map((r) => ({
        id: r.id,
        messageId: r.messageId,
        queue: r.queue,
        reason: r.reason,
        attempts: r.attempts,
        createdAt: r.createdAt.toISOString(),
        replayedAt: r.replayedAt?.toISOString() ?? null,
      })),
      nextCursor: page.nextCursor,
    };
  }

  /**
   * Puts the message back on its queue. Only a `failed` message (or one a previous replay already
   * reset to `queued`) is replayed: a sent one is never sent twice, an unknown one never blindly.
   */
  async replay(workspaceId: string, id: string): Promise<{ messageId: string; status: 'queued' }> {
    const deadLetter = await this.db.client.deadLetter.findFirst({
      where: { id, workspaceId },
      include: { message: true },
    });
    if (!deadLetter) throw new NotFoundException(`dead letter ${id} not found`);
    const { message } = deadLetter;
    if (message.status !== 'failed' && message.status !== 'queued')
      throw new ConflictException(
        `message ${message.id} is ${message.status}; only failed messages are replayed`,
      );
    await this.db.client.$transaction([
      // The replay's job (its id is the message id) is the one that may send it now.
      this.db.client.message.update({
        where: { id: message.id },
        data: { status: 'queued', sendJobId: message.id },
      }),
      this.db.client.deadLetter.update({ where: { id }, data: { replayedAt: new Date() } }),
    ]);
    await this.queues.requeue(message.channel, deadLetter.payload as unknown as SendJob);
    return { messageId: message.id, status: 'queued' };
  }
}
