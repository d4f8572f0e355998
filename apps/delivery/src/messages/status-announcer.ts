import { Injectable, Logger } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { deliveryStatusOf, type StatusSource } from './delivery-status';
import type { LedgerRow } from './ledger-row';

type Status = PayloadOf<typeof Subjects.deliveryStatus>['status'];

/**
 * The ledger columns a status announcement reads; `goneRecipient`: the address the provider said
 * will never work again (announced with the failure, for senders to drop it).
 */
export type AnnouncedRow = StatusSource &
  Pick<LedgerRow, 'status' | 'error' | 'sentAt' | 'updatedAt'> & { goneRecipient?: string };

/** Publishes what happened to messages on cdp.delivery.status, for every writer of the ledger. */
@Injectable()
export class StatusAnnouncer {
  private readonly logger = new Logger(StatusAnnouncer.name);

  constructor(private readonly publisher: JetStreamPublisher) {}

  /**
   * Publishes the messages' statuses (deduplicated by `status:<id>:<status>`), their PubAcks awaited
   * together: one wait for a chunk, not one request per message.
   */
  async announce(messages: AnnouncedRow[]): Promise<void> {
    if (!messages.length) return;
    await this.publisher.publishMany(
      messages.map((message) => {
        const status = message.status as Status;
        if (status === 'failed' || status === 'unknown')
          this.logger.warn(`message ${message.id} ${status}: ${message.error ?? ''}`);
        return {
          subject: Subjects.deliveryStatus,
          payload: deliveryStatusOf(
            message,
            status,
            message.error,
            message.sentAt ?? message.updatedAt,
            message.goneRecipient,
          ),
          msgId: `status:${message.id}:${status}`,
        };
      }),
    );
  }
}
