import { Injectable, Logger } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import type { Message, Prisma } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { deliveryStatusOf } from '../messages/delivery-status';
import { consentChannelOf } from './consent-channel';

export type ReceiptStatus = 'delivered' | 'bounced' | 'complained' | 'opened' | 'clicked' | 'failed';
type LedgerStatus = Message['status'];

/** What a provider webhook, a DSN or a tracking link says happened to a message. */
export interface Receipt {
  status: ReceiptStatus;
  at: Date;
  reason?: string;
  /** The provider says the address will never work (a hard bounce): announced for senders to drop it. */
  recipientGone?: boolean;
}

/** How a receipt names its message. */
export type MessageRef =
  | { messageId: string; workspaceId?: string }
  | { provider: string; providerMessageId: string; workspaceId?: string };

/**
 * How far a message got. A receipt never moves the status back: engagement proves delivery, so
 * a late bounce after an open keeps "opened"; an asynchronous bounce after "delivered" wins; a
 * complaint is the strongest signal of all. The receipt's own first-seen time is recorded either way.
 */
const RANK: Record<LedgerStatus, number> = {
  queued: 0,
  sending: 0,
  sent: 1,
  unknown: 1,
  failed: 2,
  delivered: 3,
  bounced: 4,
  opened: 5,
  clicked: 6,
  complained: 7,
};

/** Receipts whose reason is kept in `messages.error`. */
const NEGATIVE = new Set<ReceiptStatus>(['bounced', 'failed', 'complained']);

/** When each kind of receipt was first seen; `failed` has none (the send path also sets it) and counts as new only when it raises the status. */
const FIRST_SEEN: Partial<
  Record<ReceiptStatus, 'deliveredAt' | 'bouncedAt' | 'complainedAt' | 'openedAt' | 'clickedAt'>
> = {
  delivered: 'deliveredAt',
  bounced: 'bouncedAt',
  complained: 'complainedAt',
  opened: 'openedAt',
  clicked: 'clickedAt',
};

/**
 * Records receipts in the delivery ledger (delivery owns `messages`) and reports the first receipt
 * of each kind per message as cdp.delivery.status (msgId `status:<messageId>:<status>`): a
 * provider's retry, a second open or a second click changes nothing and publishes nothing.
 */
@Injectable()
export class ReceiptsService {
  private readonly logger = new Logger(ReceiptsService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  /** Resolves to the message (updated or already up to date), or undefined when no message matches. */
  async apply(ref: MessageRef, receipt: Receipt): Promise<Message | undefined> {
    const message = await this.db.client.$transaction(
      async (tx) => {
        const found = await this.find(tx, ref);
        if (!found) return undefined;
        // Row lock: an open and a click of the same message must not overwrite each other's change.
        await tx.$queryRaw`SELECT id FROM messages WHERE id = ${found.id} FOR UPDATE`;
        const current = await tx.message.findUniqueOrThrow({ where: { id: found.id } });
        const field = FIRST_SEEN[receipt.status];
        const raises = RANK[receipt.status] > RANK[current.status];
        if (field ? current[field] : !raises) return current;

        const data: Prisma.MessageUpdateInput = {
          ...(raises && { status: receipt.status }),
          ...(field && { [field]: receipt.at }),
          ...(receipt.reason && NEGATIVE.has(receipt.status) && { error: receipt.reason }),
        };
        const updated = await tx.message.update({ where: { id: current.id }, data });
        // Published before the commit: if NATS is down the update rolls back and the provider's
        // retry (or the next open) records it again; a commit failure after it republishes the
        // same msgId, which JetStream drops.
        await this.announce(updated, receipt);
        if (receipt.status === 'complained') await this.withdrawOnComplaint(updated, receipt);
        return updated;
      },
      { timeout: 15_000 },
    );
    if (!message) this.logger.warn(`receipt ${receipt.status} for an unknown message ${JSON.stringify(ref)}`);
    return message;
  }

  private find(tx: Prisma.TransactionClient, ref: MessageRef): Promise<Pick<Message, 'id'> | null> {
    if ('messageId' in ref) {
      if (!/^[0-9a-f-]{36}$/i.test(ref.messageId)) return Promise.resolve(null);
      return tx.message.findFirst({
        where: { id: ref.messageId, ...(ref.workspaceId && { workspaceId: ref.workspaceId }) },
        select: { id: true },
      });
    }
    return tx.messageProviderId
      .findFirst({
        where: {
          provider: ref.provider,
          providerMessageId: ref.providerMessageId,
          ...(ref.workspaceId && { workspaceId: ref.workspaceId }),
        },
        select: { messageId: true },
      })
      .then((found) => found && { id: found.messageId });
  }

  /**
   * A spam complaint is an unsubscribe (as mailbox providers expect: marketing to someone who
   * complained hurts the sender's reputation): the marketing consent for the message's channel is
   * withdrawn, through cdp.consent.changed (delivery does not own consents; collection records it).
   */
  private async withdrawOnComplaint(message: Message, receipt: Receipt): Promise<void> {
    await this.publisher.publish(
      Subjects.consentChanged,
      {
        workspaceId: message.workspaceId,
        customerId: message.customerId,
        purpose: 'marketing',
        channel: consentChannelOf(message.channel),
        status: 'withdrawn',
        source: 'spam-complaint',
        at: receipt.at.toISOString(),
        evidence: { messageId: message.id },
      },
      { msgId: `consent:complaint:${message.id}` },
    );
  }

  private async announce(message: Message, receipt: Receipt): Promise<void> {
    const payload = deliveryStatusOf(
      message,
      receipt.status,
      receipt.reason,
      receipt.at,
      receipt.recipientGone ? message.recipient : undefined,
    );
    await this.publisher.publish(Subjects.deliveryStatus, payload, {
      msgId: `status:${message.id}:${receipt.status}`,
    });
  }
}
