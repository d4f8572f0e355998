import { Module } from '@nestjs/common';
import { CustomerErasedConsumer } from './customer-erased.consumer';
import { EventIngestedConsumer } from './event-ingested.consumer';
import { IdentityMergesConsumer } from './identity-merges.consumer';
import { SegmentsController } from './segments.controller';
import { SegmentsService } from './segments.service';

@Module({
  controllers: [SegmentsController, EventIngestedConsumer, CustomerErasedConsumer, IdentityMergesConsumer],
  providers: [SegmentsService],
})
export class SegmentsModule {}
