import { Injectable } from '@nestjs/common';
import type { Event, Prisma } from '@cdp/db';

export type NewEvent = Omit<Prisma.EventUncheckedCreateInput, 'id' | 'storedAt'> & {
  workspaceId: string;
  messageId: string;
  receivedAt: Date;
};

/**
 * The only writer of the interaction history. The events table is to be partitioned by
 * received_at, so messageId uniqueness lives in event_message_ids; both rows go in one transaction.
 */
@Injectable()
export class EventStore {
  async findByMessageId(
    tx: Prisma.TransactionClient,
    workspaceId: string,
    messageId: string,
  ): Promise<Event | null> {
    const seen = await tx.eventMessageId.findUnique({
      where: { workspaceId_messageId: { workspaceId, messageId } },
      select: { eventId: true },
    });
    return seen ? tx.event.findUnique({ where: { id: seen.eventId } }) : null;
  }

  /** Inserts the event; a concurrent duplicate fails the transaction on the messageId key, and its retry finds the event. */
  async append(tx: Prisma.TransactionClient, data: NewEvent): Promise<Event> {
    const event = await tx.event.create({ data });
    await tx.eventMessageId.create({
      data: {
        workspaceId: data.workspaceId,
        messageId: data.messageId,
        eventId: event.id,
        receivedAt: data.receivedAt,
      },
    });
    return event;
  }
}
