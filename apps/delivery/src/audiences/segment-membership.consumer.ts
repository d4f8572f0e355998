import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { AudiencesService } from './audiences.service';

/** Segment membership changes -> ad audiences (acked once the platform accepted the batch). */
@Controller()
export class SegmentMembershipConsumer {
  constructor(private readonly audiences: AudiencesService) {}

  @JetStreamEventPattern(Subjects.segmentEntered)
  onEntered(@Payload() membership: PayloadOf<typeof Subjects.segmentEntered>) {
    return this.audiences.sync('add', membership);
  }

  @JetStreamEventPattern(Subjects.segmentExited)
  onExited(@Payload() membership: PayloadOf<typeof Subjects.segmentExited>) {
    return this.audiences.sync('remove', membership);
  }
}
