import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcSubjects, type ReplyOf, type RequestOf } from '@cdp/contracts';
import { JetStreamMessagePattern } from '@cdp/messaging';
import { SegmentsService } from './segments.service';

type CustomerSegments = typeof RpcSubjects.customerSegments;

/** Answers collection's Customer 360 view: the segments a customer is in now. */
@Controller()
export class CustomerSegmentsHandler {
  constructor(private readonly segments: SegmentsService) {}

  @JetStreamMessagePattern(RpcSubjects.customerSegments)
  async segmentsOf(@Payload() request: RequestOf<CustomerSegments>): Promise<ReplyOf<CustomerSegments>> {
    const { segments } = await this.segments.segmentsOf(request.workspaceId, request.customerId, false);
    return {
      segments: segments.map((s) => ({
        segmentId: s.segmentId,
        name: s.name,
        enteredAt: s.enteredAt.toISOString(),
      })),
    };
  }
}
