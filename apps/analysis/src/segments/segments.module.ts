import { Module } from '@nestjs/common';
import { ScoresModule } from '../scores/scores.module';
import { CustomerErasedConsumer } from './customer-erased.consumer';
import { CustomerRestrictedConsumer } from './customer-restricted.consumer';
import { CustomerSegmentsController } from './customer-segments.controller';
import { CustomerSegmentsHandler } from './customer-segments.handler';
import { EventIngestedConsumer } from './event-ingested.consumer';
import { IdentityMergesConsumer } from './identity-merges.consumer';
import { SegmentsController } from './segments.controller';
import { RestrictionsService } from './restrictions.service';
import { SegmentsService } from './segments.service';
import { StateChangesConsumer } from './state-changes.consumer';

@Module({
  imports: [ScoresModule],
  controllers: [
    SegmentsController,
    CustomerSegmentsController,
    CustomerSegmentsHandler,
    EventIngestedConsumer,
    CustomerErasedConsumer,
    CustomerRestrictedConsumer,
    IdentityMergesConsumer,
    StateChangesConsumer,
  ],
  providers: [SegmentsService, RestrictionsService],
})
export class SegmentsModule {}
