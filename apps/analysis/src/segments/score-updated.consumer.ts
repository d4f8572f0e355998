import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { SegmentsService } from './segments.service';

/** Score segments: entry and exit as the customer's scores change (acked once applied). */
@Controller()
export class ScoreUpdatedConsumer {
  constructor(private readonly segments: SegmentsService) {}

  @JetStreamEventPattern(Subjects.scoreUpdated)
  async onScoreUpdated(@Payload() update: PayloadOf<typeof Subjects.scoreUpdated>): Promise<void> {
    await this.segments.onScoreUpdated(update);
  }
}
