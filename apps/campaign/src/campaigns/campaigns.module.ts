import { Module } from '@nestjs/common';
import { FrequencyCapController } from '../frequency/frequency-cap.controller';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';
import { CampaignsController } from './campaigns.controller';
import { CampaignsService } from './campaigns.service';
import { CustomerErasedConsumer } from './customer-erased.consumer';
import { SegmentMembershipConsumer } from './segment-membership.consumer';

@Module({
  controllers: [
    CampaignsController,
    FrequencyCapController,
    SegmentMembershipConsumer,
    CustomerErasedConsumer,
  ],
  providers: [CampaignsService, FrequencyCapsService],
})
export class CampaignsModule {}
