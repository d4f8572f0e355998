import { Module } from '@nestjs/common';
import { CustomerErasedConsumer } from './customer-erased.consumer';
import { EventIngestedConsumer } from './event-ingested.consumer';
import { SegmentsController } from './segments.controller';
import { SegmentsService } from './segments.service';

@Module({
  controllers: [SegmentsController, EventIngestedConsumer, CustomerErasedConsumer],
  providers: [SegmentsService],
})
export class SegmentsModule {}
