import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { HistoryRetentionService } from './history-retention.service';
import { DeliveryHistoryService } from './delivery-history.service';
import { DeliveryReceiptsConsumer } from './delivery-receipts.consumer';
import { EventAnnouncer } from './event-announcer';
import { EventStore } from './event-store';

@Module({
  imports: [DevicesModule],
  controllers: [DeliveryReceiptsConsumer],
  providers: [DeliveryHistoryService, EventStore, EventAnnouncer, HistoryRetentionService],
  exports: [EventStore, EventAnnouncer],
})
export class HistoryModule {}
