import { Module } from '@nestjs/common';
import { CampaignsController } from './campaigns.controller';
import { CampaignsService } from './campaigns.service';
import { SegmentEnteredConsumer } from './segment-entered.consumer';

@Module({ controllers: [CampaignsController, SegmentEnteredConsumer], providers: [CampaignsService] })
export class CampaignsModule {}
