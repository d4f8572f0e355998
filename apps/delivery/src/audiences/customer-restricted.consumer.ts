import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { AudiencesService } from './audiences.service';

@Controller()
export class CustomerRestrictedConsumer {
  constructor(private readonly audiences: AudiencesService) {}

  /**
   * A customer whose processing is restricted leaves every ad audience delivery added them to
   * (acked once the platforms accepted the removal). A lifted restriction changes nothing here:
   * they are added again on their next segment entry.
   */
  @JetStreamEventPattern(Subjects.customerRestricted)
  async onCustomerRestricted(
    @Payload() change: PayloadOf<typeof Subjects.customerRestricted>,
  ): Promise<void> {
    if (change.restricted) await this.audiences.forget(change.workspaceId, [change.customerId]);
  }
}
