import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { TrackingModule } from '../tracking/tracking.module';
import { WebhookMappingController, WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [SourcesModule, TrackingModule],
  controllers: [WebhooksController, WebhookMappingController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
