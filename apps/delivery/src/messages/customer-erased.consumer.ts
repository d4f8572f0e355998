import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { AudiencesService } from '../audiences/audiences.service';
import { CustomerErasure } from './customer-erasure.service';

@Controller()
export class CustomerErasedConsumer {
  constructor(
    private readonly erasure: CustomerErasure,
    private readonly audiences: AudiencesService,
  ) {}

  /**
   * Acked once the ledger holds no address of the erased customers and the ad platforms accepted
   * their removal from the audiences delivery added them to (both idempotent on redelivery).
   */
  @JetStreamEventPattern(Subjects.customerErased)
  async onCustomerErased(@Payload() erased: PayloadOf<typeof Subjects.customerErased>): Promise<void> {
    await this.erasure.erase(erased.workspaceId, erased.erasedIds);
    await this.audiences.forget(erased.workspaceId, erased.erasedIds);
  }
}
