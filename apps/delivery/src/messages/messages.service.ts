import { Injectable, Logger } from '@nestjs/common';
import { DELIVERY_STATUSES, Subjects, type PayloadOf } from '@cdp/contracts';
import { Prisma, type Message } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { SendError } from '../channels/channel-adapter';
import { ChannelRegistry } from '../channels/channel-registry';
import { TemplateRenderer } from './template-renderer';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;
type Status = PayloadOf<typeof Subjects.deliveryStatus>['status'];
const FINAL = new Set<string>(DELIVERY_STATUSES);

/**
 * One send per message. The ledger row (keyed by the request's idempotency key) is marked
 * "sending" and committed before the provider call. Finding a row still "sending" means an earlier
 * attempt died between the provider's answer and the commit: SMTP has no idempotency, so the
 * message is marked "unknown" and reported, never sent again (at most once).
 */
@Injectable()
export class MessagesService {
  private readonly logger = new Logger(MessagesService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly channels: ChannelRegistry,
    private readonly templates: TemplateRenderer,
    private readonly publisher: JetStreamPublisher,
  ) {}

  async deliver(request: Requested, lastAttempt: boolean): Promise<void> {
    const message = await this.claim(request);
    if (FINAL.has(message.status)) return this.announce(message, message.status as Status);
    if (message.status === 'sending') {
      const unknown = await this.finish(message.id, 'unknown', {
        error: 'attempt interrupted after the send started; not resent (at most once)',
      });
      return this.announce(unknown, 'unknown');
    }
    const adapter = await this.channels.adapterFor(request.workspaceId, request.channel);
    if (!adapter) {
      const failed = await this.finish(message.id, 'failed', {
        error: `no provider configured for channel ${request.channel}`,
      });
      return this.announce(failed, 'failed');
    }

    let rendered: { subject: string; text: string; html?: string };
    try {
      rendered = {
        subject: await this.templates.render(request.template.subject ?? '', request.variables),
        text: await this.templates.render(request.template.body, request.variables),
        ...(request.template.html && {
          html: await this.templates.render(request.template.html, request.variables),
        }),
      };
    } catch (e) {
      const failed = await this.finish(message.id, 'failed', { error: `template: ${(e as Error).message}` });
      return this.announce(failed, 'failed');
    }

    await this.db.client.message.update({
      where: { id: message.id },
      data: { status: 'sending', attempts: { increment: 1 } },
    });
    try {
      const result = await adapter.send({
        messageId: message.id,
        idempotencyKey: message.idempotencyKey,
        workspaceId: message.workspaceId,
        customerId: message.customerId,
        channel: request.channel,
        recipient: request.recipient,
        ...rendered,
      });
      const sent = await this.finish(message.id, 'sent', {
        provider: result.provider,
        providerMessageId: result.providerMessageId,
        sentAt: new Date(),
      });
      return this.announce(sent, 'sent');
    } catch (e) {
      const permanent = e instanceof SendError && e.permanent;
      if (permanent || lastAttempt) {
        const failed = await this.finish(message.id, 'failed', { error: (e as Error).message });
        return this.announce(failed, 'failed');
      }
      // Nothing was accepted by the server: safe to try again on redelivery.
      await this.db.client.message.update({
        where: { id: message.id },
        data: { status: 'queued', error: (e as Error).message },
      });
      throw e;
    }
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

  private finish(id: string, status: Status, data: Prisma.MessageUpdateInput): Promise<Message> {
    return this.db.client.message.update({ where: { id }, data: { ...data, status } });
  }

  private async announce(message: Message, status: Status): Promise<void> {
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
