import { Injectable } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import type { Event } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';

/**
 * Tells other services an event is in the history (cdp.event.ingested). The Nats-Msg-Id is the
 * event's messageId, so announcing again after a crash between commit and publish is harmless.
 */
@Injectable()
export class EventAnnouncer {
  constructor(private readonly publisher: JetStreamPublisher) {}

  async announce(event: Event, customerCode: string): Promise<void> {
    if (!event.customerId) return;
    await this.publisher.publish(
      Subjects.eventIngested,
      {
        workspaceId: event.workspaceId,
        eventId: event.id.toString(),
        messageId: event.messageId,
        customerId: event.customerId,
        customerCode,
        type: event.type,
        ...(event.name && { name: event.name }),
        channel: event.channel,
        ...(event.journeyStage && { journeyStage: event.journeyStage }),
        properties: event.properties as Record<string, unknown>,
        occurredAt: event.occurredAt.toISOString(),
        receivedAt: event.receivedAt.toISOString(),
      },
      { msgId: `event:${event.workspaceId}:${event.messageId}` },
    );
  }
}
