import { Module } from '@nestjs/common';
import { EngagementService } from './engagement.service';
import { LinkSigner } from './link-signer';
import { ProviderReceiptsService } from './provider-receipts.service';
import { BodyParsersHook } from './body-parsers.hook';
import { DsnSmtpListener } from './dsn-smtp-listener';
import { ReceiptsController } from './receipts.controller';
import { ReceiptsService } from './receipts.service';
import { TrackingController } from './tracking.controller';
import { TrackingLinks } from './tracking-links';
import { WebhookSignatures } from './webhook-signatures';

/** Delivery receipts (provider webhooks, DSNs over HTTP or SMTP), tracking links and one-click unsubscribe. */
@Module({
  controllers: [ReceiptsController, TrackingController],
  providers: [
    BodyParsersHook,
    LinkSigner,
    TrackingLinks,
    WebhookSignatures,
    ReceiptsService,
    ProviderReceiptsService,
    EngagementService,
    DsnSmtpListener,
  ],
  exports: [TrackingLinks],
})
export class ReceiptsModule {}
