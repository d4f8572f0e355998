import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { DevicesService } from '../devices/devices.service';
import { DeliveryHistoryService } from './delivery-history.service';

/**
 * Delivery owns messages; collection owns the interaction history, so it records what delivery
 * reports, and the push addresses, so it revokes one the provider said is gone (no campaign sends
 * to it again).
 */
@Controller()
export class DeliveryReceiptsConsumer {
  constructor(
    private readonly history: DeliveryHistoryService,
    private readonly devices: DevicesService,
  ) {}

  @JetStreamEventPattern(Subjects.deliveryStatus)
  async onStatus(@Payload() status: PayloadOf<typeof Subjects.deliveryStatus>) {
    await this.history.record(status);
    if (!status.recipientGone || status.recipient === undefined) return;
    if (status.channel === 'push') await this.devices.revokeGone(status.workspaceId, status.recipient);
    if (status.channel === 'email') await this.history.emailBounced(status.workspaceId, status.recipient);
  }
}
