import { Injectable } from '@nestjs/common';
import type { Channel, Event, EventType, JourneyStage, Prisma } from '@cdp/db';

export type NewEvent = Omit<Prisma.EventUncheckedCreateInput, 'id' | 'storedAt'> & {
  workspaceId: string;
  messageId: string;
  receivedAt: Date;
};

/** One row of a batch insert: every column given explicitly (raw SQL has no defaults to fall back on). */
export interface NewEventRow {
  workspaceId: string;
  customerId: string;
  messageId: string;
  sourceId: string | null;
  type: EventType;
  name: string | null;
  channel: Channel;
  journeyStage: JourneyStage | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  anonymousId: string | null;
  userId: string | null;
  occurredAt: Date;
  sentAt: Date | null;
  receivedAt: Date;
}

export interface MessageKey {
  workspaceId: string;
  messageId: string;
}

/** A stored event with the customer code subscribers of cdp.event.ingested need. */
export type StoredEvent = Event & { customer: { id: string; customerCode: string } | null };

/** Keyset position in the (received_at, id) order of one workspace's history. */
export interface HistoryCursor {
  receivedAt: Date;
  id: bigint;
}

export interface HistoryRange {
  workspaceId: string;
  from: Date;
  /** Exclusive. */
  to: Date;
  eventNames?: string[];
}

export function messageKey(k: MessageKey): string {
  return `${k.workspaceId}\u0000${k.messageId}`;
}

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

  /** The already stored events among `keys`, by {@link messageKey}. */
  async findByMessageIds(
    tx: Prisma.TransactionClient,
    keys: readonly MessageKey[],
  ): Promise<Map<string, StoredEvent>> {
    const found = new Map<string, StoredEvent>();
    if (keys.length === 0) return found;
    // One indexed probe per key (unnest join): a Prisma OR of hundreds of pairs plans far worse.
    const seen = await tx.$queryRaw<Array<{ eventId: bigint }>>`
      SELECT m.event_id AS "eventId" FROM event_message_ids m
      JOIN unnest(${keys.map((k) => k.workspaceId)}::text[], ${keys.map((k) => k.messageId)}::text[])
        AS k(workspace_id, message_id) ON m.workspace_id = k.workspace_id AND m.message_id = k.message_id`;
    if (seen.length === 0) return found;
    const events = await tx.event.findMany({
      where: { id: { in: seen.map((s) => s.eventId) } },
      include: { customer: { select: { id: true, customerCode: true } } },
    });
    for (const e of events) found.set(messageKey(e), e);
    return found;
  }

  /**
   * Inserts many events with one statement per table (arrays unnested server-side, so the
   * statement has a fixed number of parameters whatever the batch size). The caller guarantees
   * the message ids are new and distinct; a concurrent writer of the same id makes the
   * event_message_ids insert fail (unique key), which rolls the whole transaction back.
   * Returns the ids in input order.
   */
  async appendMany(tx: Prisma.TransactionClient, rows: readonly NewEventRow[]): Promise<bigint[]> {
    if (rows.length === 0) return [];
    const col = <T>(pick: (r: NewEventRow) => T) => rows.map(pick);
    const inserted = await tx.$queryRaw<Array<{ id: bigint; ord: bigint }>>`
      WITH input AS (
        SELECT * FROM unnest(
          ${col((r) => r.workspaceId)}::text[], ${col((r) => r.customerId)}::text[],
          ${col((r) => r.messageId)}::text[], ${col((r) => r.sourceId)}::text[],
          ${col((r) => r.type)}::event_type[], ${col((r) => r.name)}::text[],
          ${col((r) => r.channel)}::channel[], ${col((r) => r.journeyStage)}::journey_stage[],
          ${col((r) => JSON.stringify(r.properties))}::jsonb[], ${col((r) => JSON.stringify(r.context))}::jsonb[],
          ${col((r) => r.anonymousId)}::text[], ${col((r) => r.userId)}::text[],
          ${col((r) => r.occurredAt.toISOString())}::timestamptz[],
          ${col((r) => r.sentAt?.toISOString() ?? null)}::timestamptz[],
          ${col((r) => r.receivedAt.toISOString())}::timestamptz[]
        ) WITH ORDINALITY AS t(workspace_id, customer_id, message_id, source_id, type, name, channel,
          journey_stage, properties, context, anonymous_id, user_id, occurred_at, sent_at, received_at, ord)
      ), stored AS (
        INSERT INTO events (workspace_id, customer_id, message_id, source_id, type, name, channel,
          journey_stage, properties, context, anonymous_id, user_id, occurred_at, sent_at, received_at)
        SELECT workspace_id, customer_id, message_id, source_id, type, name, channel,
          journey_stage, properties, context, anonymous_id, user_id, occurred_at, sent_at, received_at
        FROM input ORDER BY ord
        RETURNING id, workspace_id, message_id
      ), dedup AS (
        INSERT INTO event_message_ids (workspace_id, message_id, event_id, received_at)
        SELECT s.workspace_id, s.message_id, s.id, i.received_at
        FROM stored s JOIN input i USING (workspace_id, message_id)
      )
      SELECT s.id, i.ord FROM stored s JOIN input i USING (workspace_id, message_id)`;
    const ids: bigint[] = new Array<bigint>(rows.length);
    for (const r of inserted) ids[Number(r.ord) - 1] = r.id;
    if (inserted.length !== rows.length || ids.some((id) => id === undefined))
      throw new Error(`appendMany: ${rows.length} events given, ${inserted.length} stored`);
    return ids;
  }

  /**
   * One page of the events that were announced on cdp.event.ingested (tracking calls linked to a
   * customer; not the system events of delivery receipts), in (received_at, id) order after `cursor`.
   */
  async pageOfIngested(
    db: Prisma.TransactionClient,
    range: HistoryRange,
    cursor: HistoryCursor | null,
    limit: number,
  ): Promise<StoredEvent[]> {
    const { workspaceId, from, to, eventNames } = range;
    return db.event.findMany({
      where: {
        workspaceId,
        receivedAt: { gte: from, lt: to },
        type: { not: 'system' },
        customerId: { not: null },
        ...(eventNames?.length && { name: { in: eventNames } }),
        ...(cursor && {
          OR: [
            { receivedAt: { gt: cursor.receivedAt } },
            { receivedAt: cursor.receivedAt, id: { gt: cursor.id } },
          ],
        }),
      },
      orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }],
      take: limit,
      include: { customer: { select: { id: true, customerCode: true } } },
    });
  }
}
