import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { MessagesService } from './messages.service';

@Controller()
export class DeliveryRequestedConsumer {
  constructor(private readonly messages: MessagesService) {}

  /** Acked once the ledger row is claimed and its send job enqueued. */
  @JetStreamEventPattern(Subjects.deliveryRequested)
  async onRequested(@Payload() request: PayloadOf<typeof Subjects.deliveryRequested>) {
    await this.messages.accept(request);
  }
}
