import { Module } from '@nestjs/common';
import { ScoresModule } from '../scores/scores.module';
import { CustomerErasedConsumer } from './customer-erased.consumer';
import { CustomerSegmentsController } from './customer-segments.controller';
import { CustomerSegmentsHandler } from './customer-segments.handler';
import { EventIngestedConsumer } from './event-ingested.consumer';
import { IdentityMergesConsumer } from './identity-merges.consumer';
import { ProfileUpdatedConsumer } from './profile-updated.consumer';
import { ScoreUpdatedConsumer } from './score-updated.consumer';
import { SegmentsController } from './segments.controller';
import { SegmentsService } from './segments.service';

@Module({
  imports: [ScoresModule],
  controllers: [
    SegmentsController,
    CustomerSegmentsController,
    CustomerSegmentsHandler,
    EventIngestedConsumer,
    CustomerErasedConsumer,
    IdentityMergesConsumer,
    ProfileUpdatedConsumer,
    ScoreUpdatedConsumer,
  ],
  providers: [SegmentsService],
})
export class SegmentsModule {}
