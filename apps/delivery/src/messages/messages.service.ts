import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { MessageStatus, Prisma, type Message } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { SendError, type ChannelAdapter } from '../channels/channel-adapter';
import { ChannelRegistry } from '../channels/channel-registry';
import { DELIVERY_QUEUES, type SendJob } from '../queues/delivery-queues';
import { ProviderRateLimiter } from '../queues/provider-rate-limiter';
import { SendQueues } from '../queues/send-queues';
import { TrackingLinks } from '../receipts/tracking-links';
import { TemplateRenderer, type RenderedContent } from '../templates/template-renderer';
import { TemplatesService } from '../templates/templates.service';
import { FaultInjector } from './fault-injector';
import { recipientProblem } from './recipient';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;
type Status = PayloadOf<typeof Subjects.deliveryStatus>['status'];
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
 * The send ledger; see "One send per message" in the README. A request claims its row (unique
 * idempotency key) and enqueues a job whose id is the row id; the job marks the row `sending` and
 * commits before the provider call. A job that finds its row still `sending` knows an earlier
 * attempt died after the send started: the row becomes `unknown` and is reported, never resent.
 */
@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly channels: ChannelRegistry,
    private readonly renderer: TemplateRenderer,
    private readonly trackingLinks: TrackingLinks,
    private readonly templates: TemplatesService,
    private readonly publisher: JetStreamPublisher,
    private readonly queues: SendQueues,
    private readonly limiter: ProviderRateLimiter,
    private readonly faults: FaultInjector,
  ) {}

  /** cdp.delivery.requested: claim the ledger row and enqueue its send job (both idempotent). */
  async accept(request: Requested): Promise<void> {
    const message = await this.claim(request);
    // A redelivered request of a message already on its way or done adds nothing.
    if (message.status !== 'queued') return;
    const problem = recipientProblem(request.channel, request.recipient);
    if (problem) return this.fail(message, problem);
    let content: RenderedContent;
    try {
      content = await this.render(request);
    } catch (e) {
      return this.fail(message, `template: ${(e as Error).message}`);
    }
    await this.queues.enqueue(request.channel, { messageId: message.id, ...content });
  }

  /** One attempt of a send job. Throws DelayedError when rate limited, the SendError to retry. */
  async send(job: Job<SendJob>, token: string | undefined): Promise<void> {
    const message = await this.db.client.message.findUnique({ where: { id: job.data.messageId } });
    if (!message) return; // its workspace was deleted
    // Final already: announce again, a crash may have come between the commit and the publish.
    if (FINAL.has(message.status)) return this.announce(message);
    if (message.status === 'sending') {
      const unknown = await this.finish(message.id, 'unknown', {
        error: 'an earlier attempt died after the send started; not resent (at most once)',
      });
      return this.announce(unknown);
    }
    const adapter = await this.channels.adapterFor(message.workspaceId, message.channel);
    if (!adapter) return this.fail(message, `no provider configured for channel ${message.channel}`);

    const waitMs = await this.limiter.take(message.workspaceId, adapter.provider);
    if (waitMs > 0) {
      // Back to the delayed set without using up an attempt.
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }

    const claimed = await this.db.client.message.updateMany({
      where: { id: message.id, status: 'queued' },
      data: { status: 'sending', attempts: { increment: 1 }, provider: adapter.provider },
    });
    if (claimed.count === 0) return; // changed under us (a replay reset); the next job decides
    this.faults.point('after-claim');

    // Email gets click tracking, the open pixel and RFC 8058 one-click unsubscribe headers.
    const content =
      message.channel === 'email'
        ? this.trackingLinks.instrumentEmail(job.data.html, job.data.text, message)
        : { text: job.data.text, ...(job.data.html !== undefined && { html: job.data.html }), headers: {} };
    let result: Awaited<ReturnType<ChannelAdapter['send']>>;
    try {
      result = await adapter.send({
        messageId: message.id,
        idempotencyKey: message.idempotencyKey,
        workspaceId: message.workspaceId,
        customerId: message.customerId,
        channel: message.channel,
        recipient: message.recipient,
        ...(job.data.subject !== undefined && { subject: job.data.subject }),
        text: content.text,
        ...(content.html !== undefined && { html: content.html }),
        headers: content.headers,
      });
    } catch (e) {
      return this.sendFailed(job, message, e);
    }
    this.faults.point('after-provider-accept');
    const sent = await this.markSent(message.id, {
      providerMessageId: result.providerMessageId,
      sentAt: new Date(),
      error: null,
    });
    this.faults.point('before-status-publish');
    await this.announce(sent);
  }

  /** Message counts per ledger status of a workspace (every status listed, zeros included). */
  async stats(workspaceId: string): Promise<Record<string, number>> {
    const groups = await this.db.client.message.groupBy({
      by: ['status'],
      where: { workspaceId },
      _count: { _all: true },
    });
    const counts: Record<string, number> = Object.fromEntries(
      Object.values(MessageStatus).map((s) => [s, 0]),
    );
    for (const g of groups) counts[g.status] = g._count._all;
    counts.total = groups.reduce((sum, g) => sum + g._count._all, 0);
    return counts;
  }

  private async sendFailed(job: Job<SendJob>, message: Message, error: unknown): Promise<never> {
    const reason = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof SendError && error.permanent;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!permanent && !lastAttempt) {
      // The provider did not take it: safe to send again on the next attempt.
      await this.db.client.message.update({
        where: { id: message.id },
        data: { status: 'queued', error: reason },
      });
      throw error;
    }
    const failed = await this.db.client.$transaction(async (tx) => {
      await tx.deadLetter.create({
        data: {
          workspaceId: message.workspaceId,
          messageId: message.id,
          queue: DELIVERY_QUEUES[message.channel],
          reason,
          attempts: job.attemptsMade + 1,
          payload: job.data as unknown as Prisma.InputJsonValue,
        },
      });
      return tx.message.update({ where: { id: message.id }, data: { status: 'failed', error: reason } });
    });
    await this.announce(failed);
    throw new UnrecoverableError(reason);
  }

  private async render(request: Requested): Promise<RenderedContent> {
    const variables = request.variables as Record<string, unknown>;
    if (request.templateId) {
      const template = await this.templates.variantFor(
        request.workspaceId,
        request.templateId,
        request.locale,
      );
      if (!template) throw new Error(`template ${request.templateId} not found`);
      if (template.channel !== request.channel)
        throw new Error(`template ${request.templateId} is for ${template.channel}, not ${request.channel}`);
      return this.renderer.renderAll(template, variables);
    }
    if (!request.template) throw new Error('the request has neither template nor templateId');
    return this.renderer.renderAll(request.template, variables);
  }

  private async claim(request: Requested): Promise<Message> {
    try {
      return await this.db.client.message.create({
        data: {
          idempotencyKey: request.idempotencyKey,
          workspaceId: request.workspaceId,
          campaignId: request.campaignId ?? null,
          campaignRunId: request.campaignRunId ?? null,
          customerId: request.customerId,
          channel: request.channel,
          recipient: request.recipient,
          status: 'queued',
          requestedAt: new Date(request.requestedAt),
        },
      });
    } catch (e) {
      if (!(e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')) throw e;
      return this.db.client.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
    }
  }

  private async fail(message: Message, reason: string): Promise<void> {
    const failed = await this.finish(message.id, 'failed', { error: reason });
    await this.announce(failed);
  }

  /**
   * `sent` only replaces `sending`: a provider receipt (delivered, opened ...) that arrived before
   * this commit keeps its later status, and the send facts are recorded either way.
   */
  private async markSent(id: string, data: Prisma.MessageUpdateManyMutationInput): Promise<Message> {
    const moved = await this.db.client.message.updateMany({
      where: { id, status: 'sending' },
      data: { ...data, status: 'sent' },
    });
    if (moved.count === 0) await this.db.client.message.updateMany({ where: { id }, data });
    return this.db.client.message.findUniqueOrThrow({ where: { id } });
  }

  private finish(id: string, status: Status, data: Prisma.MessageUpdateInput): Promise<Message> {
    return this.db.client.message.update({ where: { id }, data: { ...data, status } });
  }

  private async announce(message: Message): Promise<void> {
    const status = message.status as Status;
    if (status === 'failed' || status === 'unknown')
      this.logger.warn(`message ${message.id} ${status}: ${message.error ?? ''}`);
    await this.publisher.publish(
      Subjects.deliveryStatus,
      {
        workspaceId: message.workspaceId,
        idempotencyKey: message.idempotencyKey,
        messageId: message.id,
        ...(message.campaignId && { campaignId: message.campaignId }),
        customerId: message.customerId,
        channel: message.channel,
        status,
        ...(message.provider && { provider: message.provider }),
        ...(message.providerMessageId && { providerMessageId: message.providerMessageId }),
        ...(message.error && { reason: message.error }),
        at: (message.sentAt ?? message.updatedAt).toISOString(),
      },
      { msgId: `status:${message.id}:${status}` },
    );
  }
}
