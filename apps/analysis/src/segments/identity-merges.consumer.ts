import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { SegmentsService } from './segments.service';

/** Segment memberships follow collection's merges and unmerges (acked once applied; idempotent). */
@Controller()
export class IdentityMergesConsumer {
  constructor(private readonly segments: SegmentsService) {}

  @JetStreamEventPattern(Subjects.identityMerged)
  async onMerged(@Payload() merged: PayloadOf<typeof Subjects.identityMerged>): Promise<void> {
    await this.segments.onIdentityMerged(merged);
  }

  @JetStreamEventPattern(Subjects.identityUnmerged)
  async onUnmerged(@Payload() unmerged: PayloadOf<typeof Subjects.identityUnmerged>): Promise<void> {
    await this.segments.onIdentityUnmerged(unmerged);
  }
}
