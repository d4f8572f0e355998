import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { ScoresService } from '../scores/scores.service';
import { SegmentsService } from './segments.service';

/**
 * Each stored event counts in its customer's score and may make them enter segments (both
 * idempotent), for the live customer: the survivor if the event's customer was merged meanwhile.
 */
@Controller()
export class EventIngestedConsumer {
  constructor(
    private readonly scores: ScoresService,
    private readonly segments: SegmentsService,
  ) {}

  @JetStreamEventPattern(Subjects.eventIngested)
  async onEventIngested(@Payload() event: PayloadOf<typeof Subjects.eventIngested>) {
    // An event of a customer merged away after it was stored counts for the survivor.
    const customerId = await this.scores.onEventIngested(event);
    await this.segments.onEventIngested({ ...event, customerId });
  }
}
