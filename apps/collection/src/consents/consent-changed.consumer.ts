import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { ConsentsService } from './consents.service';

/** Delivery (one-click unsubscribe) and other services report consent changes; collection stores them. */
@Controller()
export class ConsentChangedConsumer {
  constructor(private readonly consents: ConsentsService) {}

  @JetStreamEventPattern(Subjects.consentChanged)
  async onChanged(@Payload() change: PayloadOf<typeof Subjects.consentChanged>): Promise<void> {
    await this.consents.record(change);
  }
}
