import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { invalidInput } from '@cdp/service-kit';
import type { SourceContext } from '../sources/write-key.guard';
import { channelOf, correctedTimestamp, journeyStageOf } from './normalize';

type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;

export interface TrackingCall {
  type: 'track' | 'identify';
  messageId?: string;
  userId?: string | number;
  anonymousId?: string | number;
  event?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
  timestamp?: string;
  sentAt?: string;
}

/** Accepts tracking calls: normalises them and makes them durable on JetStream before the 2xx. */
@Injectable()
export class TrackingService {
  constructor(private readonly publisher: JetStreamPublisher) {}

  async accept(source: SourceContext, call: TrackingCall, receivedAt = new Date()): Promise<void> {
    const userId = call.userId === undefined ? undefined : String(call.userId);
    const anonymousId = call.anonymousId === undefined ? undefined : String(call.anonymousId);
    if (!userId && !anonymousId)
      throw invalidInput('/userId', 'userId or anonymousId is required', 'Invalid request body');
    const context = call.context ?? {};
    const messageId = call.messageId ?? `srv-${randomUUID()}`;
    const accepted: Accepted = {
      workspaceId: source.workspaceId,
      sourceId: source.sourceId,
      messageId,
      type: call.type,
      ...(call.event !== undefined && { event: call.event }),
      ...(userId && { userId }),
      ...(anonymousId && { anonymousId }),
      ...(call.properties && { properties: call.properties }),
      ...(call.traits && { traits: call.traits }),
      context,
      channel: channelOf(context, source.sourceKind),
      ...(journeyStageOf(context, call.properties) && {
        journeyStage: journeyStageOf(context, call.properties),
      }),
      timestamp: correctedTimestamp(call.timestamp, call.sentAt, receivedAt).toISOString(),
      ...(call.sentAt && { sentAt: call.sentAt }),
      receivedAt: receivedAt.toISOString(),
    };
    // Nats-Msg-Id = workspace + messageId: a retried call inside the stream's duplicate window is
    // dropped by JetStream; the persisting consumer deduplicates the rest in Postgres.
    await this.publisher.publish(Subjects.ingestAccepted, accepted, {
      msgId: `${source.workspaceId}:${messageId}`,
    });
  }
}
