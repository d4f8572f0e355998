import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern, type JetStreamContext } from '@cdp/messaging';
import { MessagesService } from './messages.service';

@Controller()
export class DeliveryRequestedConsumer {
  constructor(private readonly messages: MessagesService) {}

  @JetStreamEventPattern(Subjects.deliveryRequested)
  async onRequested(
    @Payload() request: PayloadOf<typeof Subjects.deliveryRequested>,
    @Ctx() context: JetStreamContext,
  ) {
    await this.messages.deliver(request, context.isLastDelivery);
  }
}
