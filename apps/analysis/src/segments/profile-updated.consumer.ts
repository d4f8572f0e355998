import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { SegmentsService } from './segments.service';

/** Lifecycle segments: entry and exit as the customer's stage changes (acked once applied). */
@Controller()
export class ProfileUpdatedConsumer {
  constructor(private readonly segments: SegmentsService) {}

  @JetStreamEventPattern(Subjects.profileUpdated)
  async onProfileUpdated(@Payload() update: PayloadOf<typeof Subjects.profileUpdated>): Promise<void> {
    await this.segments.onProfileUpdated(update);
  }
}
