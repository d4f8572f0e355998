import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { ScoresService } from '../scores/scores.service';
import { SegmentsService } from './segments.service';

/** Segment memberships and scores follow collection's merges and unmerges (acked once applied; idempotent). */
@Controller()
export class IdentityMergesConsumer {
  constructor(
    private readonly segments: SegmentsService,
    private readonly scores: ScoresService,
  ) {}

  @JetStreamEventPattern(Subjects.identityMerged)
  async onMerged(@Payload() merged: PayloadOf<typeof Subjects.identityMerged>): Promise<void> {
    await this.segments.onIdentityMerged(merged);
    await this.scores.onIdentityMerged(merged);
  }

  @JetStreamEventPattern(Subjects.identityUnmerged)
  async onUnmerged(@Payload() unmerged: PayloadOf<typeof Subjects.identityUnmerged>): Promise<void> {
    await this.segments.onIdentityUnmerged(unmerged);
    await this.scores.onIdentityUnmerged(unmerged);
  }
}
