import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module';
import { DeliveryRequestedConsumer } from './delivery-requested.consumer';
import { MessagesService } from './messages.service';
import { TemplateRenderer } from './template-renderer';

@Module({
  imports: [ChannelsModule],
  controllers: [DeliveryRequestedConsumer],
  providers: [MessagesService, TemplateRenderer],
})
export class MessagesModule {}
