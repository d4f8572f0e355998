import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { CampaignsService } from './campaigns.service';

@Controller()
export class SegmentEnteredConsumer {
  constructor(private readonly campaigns: CampaignsService) {}

  @JetStreamEventPattern(Subjects.segmentEntered)
  async onSegmentEntered(@Payload() entry: PayloadOf<typeof Subjects.segmentEntered>) {
    await this.campaigns.onSegmentEntered(entry);
  }
}
