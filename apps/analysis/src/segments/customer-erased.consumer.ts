import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { SegmentsService } from './segments.service';

@Controller()
export class CustomerErasedConsumer {
  constructor(private readonly segments: SegmentsService) {}

  /** Acked once analysis holds nothing more of the erased customers (idempotent on redelivery). */
  @JetStreamEventPattern(Subjects.customerErased)
  async onCustomerErased(@Payload() erased: PayloadOf<typeof Subjects.customerErased>): Promise<void> {
    await this.segments.forgetCustomers(erased.workspaceId, erased.erasedIds);
  }
}
