import { Module } from '@nestjs/common';
import { EventIngestedConsumer } from './event-ingested.consumer';
import { SegmentsController } from './segments.controller';
import { SegmentsService } from './segments.service';

@Module({ controllers: [SegmentsController, EventIngestedConsumer], providers: [SegmentsService] })
export class SegmentsModule {}
