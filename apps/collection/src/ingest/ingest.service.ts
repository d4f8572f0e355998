import { Injectable } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { EventStore } from '../history/event-store';
import { IdentityService, identifiersOf, normalizeEmail } from '../identity/identity.service';

type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;
type Json = Prisma.InputJsonValue;

/**
 * Persists accepted tracking calls: identity resolution, the event row and its messageId
 * (deduplication) in one transaction, then announces cdp.event.ingested. A redelivered call finds
 * its messageId and only re-announces (same Nats-Msg-Id, so subscribers see it once).
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly db: DatabaseService,
    private readonly identity: IdentityService,
    private readonly events: EventStore,
    private readonly publisher: JetStreamPublisher,
  ) {}

  async store(call: Accepted): Promise<void> {
    const traits = { ...asObject(call.context?.traits), ...call.traits };
    const stored = await this.db.client.$transaction(async (tx) => {
      const seen = await this.events.findByMessageId(tx, call.workspaceId, call.messageId);
      if (seen)
        return {
          event: seen,
          customer: await tx.customer.findUniqueOrThrow({ where: { id: seen.customerId! } }),
        };
      const receivedAt = new Date(call.receivedAt);
      const identifiers = identifiersOf({ ...call, traits });
      let customer = await this.identity.resolve(
        tx,
        call.workspaceId,
        identifiers,
        call.sourceId,
        receivedAt,
      );
      if (Object.keys(traits).length) {
        customer = await tx.customer.update({
          where: { id: customer.id },
          data: {
            traits: { ...asObject(customer.traits), ...traits } as Json,
            ...(typeof traits.email === 'string' && { email: normalizeEmail(traits.email) }),
            ...(typeof traits.phone === 'string' && { phone: traits.phone }),
          },
        });
      }
      const event = await this.events.append(tx, {
        workspaceId: call.workspaceId,
        customerId: customer.id,
        messageId: call.messageId,
        sourceId: call.sourceId,
        type: call.type,
        name: call.event ?? null,
        channel: call.channel,
        journeyStage: call.journeyStage ?? null,
        properties: (call.properties ?? (call.type === 'identify' ? traits : {})) as Json,
        context: (call.context ?? {}) as Json,
        anonymousId: call.anonymousId ?? null,
        userId: call.userId ?? null,
        occurredAt: new Date(call.timestamp),
        sentAt: call.sentAt ? new Date(call.sentAt) : null,
        receivedAt,
      });
      return { event, customer };
    });

    const { event, customer } = stored;
    await this.publisher.publish(
      Subjects.eventIngested,
      {
        workspaceId: call.workspaceId,
        eventId: event.id.toString(),
        messageId: call.messageId,
        customerId: customer.id,
        customerCode: customer.customerCode,
        type: event.type,
        ...(event.name && { name: event.name }),
        channel: call.channel,
        ...(call.journeyStage && { journeyStage: call.journeyStage }),
        properties: asObject(event.properties),
        occurredAt: event.occurredAt.toISOString(),
        receivedAt: event.receivedAt.toISOString(),
      },
      { msgId: `event:${call.workspaceId}:${call.messageId}` },
    );
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
