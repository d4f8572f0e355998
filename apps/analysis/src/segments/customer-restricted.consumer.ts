import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { RestrictionsService } from './restrictions.service';

@Controller()
export class CustomerRestrictedConsumer {
  constructor(private readonly restrictions: RestrictionsService) {}

  /** Acked once the customer's memberships follow the change (idempotent on redelivery). */
  @JetStreamEventPattern(Subjects.customerRestricted)
  async onCustomerRestricted(
    @Payload() change: PayloadOf<typeof Subjects.customerRestricted>,
  ): Promise<void> {
    await this.restrictions.onRestricted(change);
  }
}
