import { Module } from '@nestjs/common';
import { AudiencesModule } from '../audiences/audiences.module';
import { ChannelsModule } from '../channels/channels.module';
import { ReceiptsModule } from '../receipts/receipts.module';
import { QueuesModule } from '../queues/queues.module';
import { TemplatesModule } from '../templates/templates.module';
import { CustomerErasedConsumer } from './customer-erased.consumer';
import { CustomerErasure } from './customer-erasure.service';
import { DeliveryRequestedConsumer } from './delivery-requested.consumer';
import { FaultInjector } from './fault-injector';
import { LedgerGroupWrites } from './ledger-group-writes';
import { LedgerQueriesService } from './ledger-queries.service';
import { LostJobsSweeper } from './lost-jobs.sweeper';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';
import { SendWorkers } from './send-workers';
import { StatusAnnouncer } from './status-announcer';

@Module({
  imports: [AudiencesModule, ChannelsModule, QueuesModule, TemplatesModule, ReceiptsModule],
  controllers: [DeliveryRequestedConsumer, CustomerErasedConsumer, MessagesController],
  providers: [
    MessagesService,
    LedgerQueriesService,
    SendWorkers,
    FaultInjector,
    LedgerGroupWrites,
    StatusAnnouncer,
    LostJobsSweeper,
    CustomerErasure,
  ],
})
export class MessagesModule {}
