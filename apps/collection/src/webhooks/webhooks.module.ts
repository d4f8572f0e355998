import { Module } from '@nestjs/common';
import { WriteKeyGuard } from '../sources/write-key.guard';
import { TrackingModule } from '../tracking/tracking.module';
import { WebhookMappingController, WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [TrackingModule],
  controllers: [WebhooksController, WebhookMappingController],
  providers: [WebhooksService, WriteKeyGuard],
})
export class WebhooksModule {}
