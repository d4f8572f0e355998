import { Injectable, NotFoundException } from '@nestjs/common';
import type { MessagePage, MessageView } from '@cdp/contracts';
import type { DeliveryChannel, Message, MessageStatus } from '@cdp/db';
import { DatabaseService, keysetPage, olderThanCursor } from '@cdp/service-kit';

export interface MessageFilter {
  status?: MessageStatus;
  channel?: DeliveryChannel;
  customerId?: string;
  campaignRunId?: string;
}

/**
 * Reads of the send ledger for people: one message, or a workspace's messages newest first, e.g.
 * the `unknown` ones to reconcile by hand, or what a customer was sent.
 */
@Injectable()
export class LedgerQueriesService {
  constructor(private readonly db: DatabaseService) {}

  async get(workspaceId: string, id: string): Promise<MessageView> {
    const row = await this.db.client.message.findFirst({ where: { id, workspaceId } });
    if (!row) throw new NotFoundException(`Message ${id} not found`);
    return viewOf(row);
  }

  async list(
    workspaceId: string,
    filter: MessageFilter,
    limit: number,
    cursor?: string,
  ): Promise<MessagePage> {
    const rows = await this.db.client.message.findMany({
      where: { workspaceId, ...filter, ...olderThanCursor('requestedAt', cursor) },
      orderBy: [{ requestedAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    });
    const page = keysetPage(rows, limit, (r) => r.requestedAt);
    return { items: page.rows.map(viewOf), nextCursor: page.nextCursor };
  }
}

function viewOf(row: Message): MessageView {
  const at = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: row.id,
    idempotencyKey: row.idempotencyKey,
    campaignId: row.campaignId,
    campaignRunId: row.campaignRunId,
    customerId: row.customerId,
    channel: row.channel,
    provider: row.provider,
    recipient: row.recipient,
    status: row.status,
    providerMessageId: row.providerMessageId,
    error: row.error,
    attempts: row.attempts,
    requestedAt: row.requestedAt.toISOString(),
    sentAt: at(row.sentAt),
    deliveredAt: at(row.deliveredAt),
    openedAt: at(row.openedAt),
    clickedAt: at(row.clickedAt),
    bouncedAt: at(row.bouncedAt),
    complainedAt: at(row.complainedAt),
    updatedAt: row.updatedAt.toISOString(),
  };
}
