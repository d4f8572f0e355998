import { Module } from '@nestjs/common';
import { DeliveryHistoryService } from './delivery-history.service';
import { DeliveryReceiptsConsumer } from './delivery-receipts.consumer';
import { EventStore } from './event-store';

@Module({
  controllers: [DeliveryReceiptsConsumer],
  providers: [DeliveryHistoryService, EventStore],
  exports: [EventStore],
})
export class HistoryModule {}
