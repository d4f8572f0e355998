import { Module } from '@nestjs/common';
import { SmtpEmailSender } from '../email/smtp-email.sender';
import { DeliveryRequestedConsumer } from './delivery-requested.consumer';
import { MessagesService } from './messages.service';
import { TemplateRenderer } from './template-renderer';

@Module({
  controllers: [DeliveryRequestedConsumer],
  providers: [MessagesService, SmtpEmailSender, TemplateRenderer],
})
export class MessagesModule {}
