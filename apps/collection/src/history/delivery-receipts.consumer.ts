import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { DeliveryHistoryService } from './delivery-history.service';

/** Delivery owns messages; collection owns the interaction history, so it records what delivery reports. */
@Controller()
export class DeliveryReceiptsConsumer {
  constructor(private readonly history: DeliveryHistoryService) {}

  @JetStreamEventPattern(Subjects.deliveryStatus)
  async onStatus(@Payload() status: PayloadOf<typeof Subjects.deliveryStatus>) {
    await this.history.record(status);
  }
}
