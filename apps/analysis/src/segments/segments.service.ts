import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { CreateSegmentRequest, SegmentCondition, Subjects, validate, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { eventMatches } from './segment-rules';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;

/** Segment definitions (stored rules) and real-time membership. */
@Injectable()
export class SegmentsService {
  private readonly logger = new Logger(SegmentsService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  create(workspaceId: string, request: CreateSegmentRequest) {
    return this.db.client.segment.create({
      data: {
        workspaceId,
        name: request.name,
        description: request.description ?? null,
        definition: request.definition,
        kind: 'realtime',
        status: 'active',
      },
    });
  }

  list(workspaceId: string) {
    return this.db.client.segment.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' } });
  }

  async members(workspaceId: string, segmentId: string, limit: number, after?: string) {
    const segment = await this.db.client.segment.findFirst({
      where: { id: segmentId, workspaceId },
      select: { id: true },
    });
    if (!segment) throw new NotFoundException(`Segment ${segmentId} not found`);
    const rows = await this.db.client.segmentMembership.findMany({
      where: { segmentId, exitedAt: null, ...(after && { customerId: { gt: after } }) },
      orderBy: { customerId: 'asc' },
      take: limit,
    });
    return { items: rows, nextCursor: rows.length === limit ? rows[rows.length - 1]!.customerId : null };
  }

  /**
   * Puts the event's customer into every active real-time segment whose rule the event meets.
   * cdp.segment.entered goes out before the membership row is written, with a Nats-Msg-Id tied to
   * the causing event: a redelivery after a crash publishes again (deduplicated by JetStream) and
   * then writes the row, so no entry is lost and none is announced twice within the window.
   */
  async onEventIngested(event: Ingested): Promise<void> {
    const segments = await this.db.client.segment.findMany({
      where: { workspaceId: event.workspaceId, status: 'active', kind: 'realtime' },
    });
    for (const segment of segments) {
      const rule = validate(SegmentCondition, segment.definition);
      if (!rule.ok) {
        this.logger.warn(
          `segment ${segment.id} has an invalid definition, skipped: ${JSON.stringify(rule.issues)}`,
        );
        continue;
      }
      if (
        !eventMatches(rule.value, { ...(event.name && { name: event.name }), properties: event.properties })
      )
        continue;
      const membership = await this.db.client.segmentMembership.findUnique({
        where: { segmentId_customerId: { segmentId: segment.id, customerId: event.customerId } },
      });
      if (membership && !membership.exitedAt) continue;
      const enteredAt = new Date();
      await this.publisher.publish(
        Subjects.segmentEntered,
        {
          workspaceId: event.workspaceId,
          segmentId: segment.id,
          segmentName: segment.name,
          customerId: event.customerId,
          at: enteredAt.toISOString(),
          cause: event.messageId,
        },
        { msgId: `segment-entered:${segment.id}:${event.customerId}:${event.messageId}` },
      );
      await this.db.client.segmentMembership.upsert({
        where: { segmentId_customerId: { segmentId: segment.id, customerId: event.customerId } },
        create: {
          workspaceId: event.workspaceId,
          segmentId: segment.id,
          customerId: event.customerId,
          enteredAt,
        },
        update: { enteredAt, exitedAt: null },
      });
    }
  }

  /**
   * An erased customer's part of analysis: segment memberships, scores and persona assignments go
   * (no cdp.segment.exited: the person is gone, not out of the segment).
   */
  async forgetCustomers(workspaceId: string, customerIds: string[]): Promise<void> {
    const where = { workspaceId, customerId: { in: customerIds } };
    const [memberships, scores, personas] = await this.db.client.$transaction([
      this.db.client.segmentMembership.deleteMany({ where }),
      this.db.client.score.deleteMany({ where }),
      this.db.client.personaAssignment.deleteMany({ where }),
    ]);
    this.logger.log(
      `erased ${customerIds.length} customer(s) of ${workspaceId}: ${memberships.count} memberships, ${scores.count} scores, ${personas.count} persona assignments deleted`,
    );
  }
}
