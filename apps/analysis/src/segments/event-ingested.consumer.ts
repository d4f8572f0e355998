import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { SegmentsService } from './segments.service';

@Controller()
export class EventIngestedConsumer {
  constructor(private readonly segments: SegmentsService) {}

  @JetStreamEventPattern(Subjects.eventIngested)
  async onEventIngested(@Payload() event: PayloadOf<typeof Subjects.eventIngested>) {
    await this.segments.onEventIngested(event);
  }
}
