import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';
import { CampaignsService } from './campaigns.service';

@Controller()
export class CustomerErasedConsumer {
  constructor(
    private readonly caps: FrequencyCapsService,
    private readonly campaigns: CampaignsService,
  ) {}

  /** Acked once campaign holds no sends, held triggers or experiment groups of the erased customers (idempotent on redelivery). */
  @JetStreamEventPattern(Subjects.customerErased)
  async onCustomerErased(@Payload() erased: PayloadOf<typeof Subjects.customerErased>): Promise<void> {
    await this.caps.forgetCustomers(erased.workspaceId, erased.erasedIds);
    await this.campaigns.forgetCustomers(erased.workspaceId, erased.erasedIds);
  }
}
