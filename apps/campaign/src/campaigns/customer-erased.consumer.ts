import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';

@Controller()
export class CustomerErasedConsumer {
  constructor(private readonly caps: FrequencyCapsService) {}

  /** Acked once campaign holds no sends of the erased customers (idempotent on redelivery). */
  @JetStreamEventPattern(Subjects.customerErased)
  async onCustomerErased(@Payload() erased: PayloadOf<typeof Subjects.customerErased>): Promise<void> {
    await this.caps.forgetCustomers(erased.workspaceId, erased.erasedIds);
  }
}
