import { Injectable } from '@nestjs/common';
import type { PayloadOf, Subjects } from '@cdp/contracts';
import { DatabaseService } from '@cdp/service-kit';
import { lockAttachableCustomer } from '../customers/attachable-customer';
import { EventStore } from './event-store';

type Status = PayloadOf<typeof Subjects.deliveryStatus>;
const CHANNEL: Record<Status['channel'], 'email' | 'sms' | 'push' | 'ad' | 'other'> = {
  email: 'email',
  sms: 'sms',
  push: 'push',
  ad_audience: 'ad',
  webhook: 'other',
};

/** Writes delivery receipts into the customer's interaction history, once per message and status, and marks bounced email addresses. */
@Injectable()
export class DeliveryHistoryService {
  constructor(
    private readonly db: DatabaseService,
    private readonly events: EventStore,
  ) {}

  async record(status: Status): Promise<void> {
    const messageId = `delivery:${status.messageId}:${status.status}`;
    await this.db.client.$transaction(async (tx) => {
      if (await this.events.findByMessageId(tx, status.workspaceId, messageId)) return;
      // A receipt for an erased customer stays in the history unlinked: nothing attaches to a tombstone.
      const linked = await lockAttachableCustomer(tx, status.workspaceId, status.customerId);
      await this.events.append(tx, {
        workspaceId: status.workspaceId,
        customerId: linked ? status.customerId : null,
        messageId,
        type: 'system',
        name: `Message ${status.status[0]!.toUpperCase()}${status.status.slice(1)}`,
        channel: CHANNEL[status.channel],
        properties: {
          deliveryMessageId: status.messageId,
          status: status.status,
          ...(status.campaignId && { campaignId: status.campaignId }),
          ...(status.provider && { provider: status.provider }),
          ...(status.providerMessageId && { providerMessageId: status.providerMessageId }),
          ...(status.reason && { reason: status.reason }),
        },
        context: {},
        occurredAt: new Date(status.at),
        receivedAt: new Date(),
      });
    });
  }

  /**
   * An email address delivery reported gone (a hard bounce): the customers whose email it still is
   * are marked, so senders skip it (the customer look-up says `emailBounced`) until they give
   * another address. Idempotent.
   */
  async emailBounced(workspaceId: string, address: string): Promise<number> {
    const { count } = await this.db.client.customer.updateMany({
      where: { workspaceId, email: address, erasedAt: null },
      data: { bouncedEmail: address },
    });
    return count;
  }
}
