import { Injectable, Logger } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import type { Message, Prisma } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';

export type ReceiptStatus = 'delivered' | 'bounced' | 'complained' | 'opened' | 'clicked' | 'failed';
type LedgerStatus = Message['status'];

/** What a provider webhook, a DSN or a tracking link says happened to a message. */
export interface Receipt {
  status: ReceiptStatus;
  at: Date;
  reason?: string;
}

/** How a receipt names its message. */
export type MessageRef =
  | { messageId: string; workspaceId?: string }
  | { provider: string; providerMessageId: string; workspaceId?: string };

/**
 * How far a message got. A receipt never moves the status back: engagement proves delivery, so
 * a late bounce after an open keeps "opened"; an asynchronous bounce after "delivered" wins; a
 * complaint is the strongest signal of all. The receipt's own timestamp is recorded either way.
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

const TIMESTAMP: Partial<Record<ReceiptStatus, 'deliveredAt' | 'openedAt' | 'clickedAt'>> = {
  delivered: 'deliveredAt',
  opened: 'openedAt',
  clicked: 'clickedAt',
};

/**
 * Records receipts in the delivery ledger (delivery owns `messages`) and reports each one as
 * cdp.delivery.status with msgId `status:<messageId>:<status>`, so a provider's retry or a second
 * open adds nothing downstream.
 */
@Injectable()
export class ReceiptsService {
  private readonly logger = new Logger(ReceiptsService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  /** Resolves to the updated message, or undefined when no message matches. */
  async apply(ref: MessageRef, receipt: Receipt): Promise<Message | undefined> {
    const updated = await this.db.client.$transaction(async (tx) => {
      const found = await this.find(tx, ref);
      if (!found) return undefined;
      // Row lock: an open and a click of the same message must not overwrite each other's change.
      await tx.$queryRaw`SELECT id FROM messages WHERE id = ${found.id} FOR UPDATE`;
      const message = await tx.message.findUniqueOrThrow({ where: { id: found.id } });
      const data: Prisma.MessageUpdateInput = {};
      if (RANK[receipt.status] > RANK[message.status]) data.status = receipt.status;
      const field = TIMESTAMP[receipt.status];
      // Opens and clicks keep the first time; a later "delivered" fills deliveredAt whatever the status.
      if (field && !message[field]) data[field] = receipt.at;
      if (
        receipt.reason &&
        (receipt.status === 'bounced' || receipt.status === 'failed' || receipt.status === 'complained')
      )
        data.error = receipt.reason;
      if (Object.keys(data).length === 0) return message;
      return tx.message.update({ where: { id: message.id }, data });
    });
    if (!updated) {
      this.logger.warn(`receipt ${receipt.status} for an unknown message ${JSON.stringify(ref)}`);
      return undefined;
    }
    await this.announce(updated, receipt);
    return updated;
  }

  private find(tx: Prisma.TransactionClient, ref: MessageRef): Promise<Pick<Message, 'id'> | null> {
    if ('messageId' in ref) {
      if (!/^[0-9a-f-]{36}$/i.test(ref.messageId)) return Promise.resolve(null);
      return tx.message.findFirst({
        where: { id: ref.messageId, ...(ref.workspaceId && { workspaceId: ref.workspaceId }) },
        select: { id: true },
      });
    }
    return tx.message.findFirst({
      where: {
        provider: ref.provider,
        providerMessageId: ref.providerMessageId,
        ...(ref.workspaceId && { workspaceId: ref.workspaceId }),
      },
      select: { id: true },
    });
  }

  private async announce(message: Message, receipt: Receipt): Promise<void> {
    const field = TIMESTAMP[receipt.status];
    const payload: PayloadOf<typeof Subjects.deliveryStatus> = {
      workspaceId: message.workspaceId,
      idempotencyKey: message.idempotencyKey,
      messageId: message.id,
      ...(message.campaignId && { campaignId: message.campaignId }),
      customerId: message.customerId,
      channel: message.channel,
      status: receipt.status,
      ...(message.provider && { provider: message.provider }),
      ...(message.providerMessageId && { providerMessageId: message.providerMessageId }),
      ...(receipt.reason && { reason: receipt.reason }),
      // The stored first time, so a repeated receipt publishes the same payload.
      at: ((field && message[field]) || receipt.at).toISOString(),
    };
    await this.publisher.publish(Subjects.deliveryStatus, payload, {
      msgId: `status:${message.id}:${receipt.status}`,
    });
  }
}
