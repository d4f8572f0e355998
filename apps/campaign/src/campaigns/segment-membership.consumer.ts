import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { CampaignsService } from './campaigns.service';

/** Segment entries and exits, each handed to the campaigns they trigger. */
@Controller()
export class SegmentMembershipConsumer {
  constructor(private readonly campaigns: CampaignsService) {}

  @JetStreamEventPattern(Subjects.segmentEntered)
  async onSegmentEntered(@Payload() entry: PayloadOf<typeof Subjects.segmentEntered>) {
    await this.campaigns.onSegmentChange('entered', entry);
  }

  @JetStreamEventPattern(Subjects.segmentExited)
  async onSegmentExited(@Payload() exit: PayloadOf<typeof Subjects.segmentExited>) {
    await this.campaigns.onSegmentChange('exited', exit);
  }
}
