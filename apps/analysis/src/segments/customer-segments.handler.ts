import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcSubjects, type ReplyOf, type RequestOf } from '@cdp/contracts';
import { JetStreamMessagePattern } from '@cdp/messaging';
import { ScoresService } from '../scores/scores.service';
import { SegmentsService } from './segments.service';

type CustomerSegments = typeof RpcSubjects.customerSegments;

/** Answers collection's Customer 360 view: the segments a customer is in now, and their scores. */
@Controller()
export class CustomerSegmentsHandler {
  constructor(
    private readonly segments: SegmentsService,
    private readonly scores: ScoresService,
  ) {}

  @JetStreamMessagePattern(RpcSubjects.customerSegments)
  async segmentsOf(@Payload() request: RequestOf<CustomerSegments>): Promise<ReplyOf<CustomerSegments>> {
    const [{ segments }, { scores }] = await Promise.all([
      this.segments.segmentsOf(request.workspaceId, request.customerId, false),
      this.scores.scoresOf(request.workspaceId, request.customerId),
    ]);
    return {
      segments: segments.map((s) => ({
        segmentId: s.segmentId,
        name: s.name,
        enteredAt: s.enteredAt.toISOString(),
      })),
      scores: scores.map((s) => ({
        model: s.model,
        modelVersion: s.modelVersion,
        value: s.value,
        computedAt: s.computedAt.toISOString(),
      })),
    };
  }
}
