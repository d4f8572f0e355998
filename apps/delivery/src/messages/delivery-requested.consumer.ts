import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { MicroBatcher, SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { MessagesService } from './messages.service';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

/**
 * Requests in flight at once in this process: enough to fill several batches while earlier ones
 * are written, few enough to keep memory small.
 */
const IN_FLIGHT = 256;

@Controller()
export class DeliveryRequestedConsumer {
  private readonly batcher: MicroBatcher<Requested>;

  constructor(
    @Inject(SERVICE_CONFIG) config: DeliveryConfig,
    private readonly messages: MessagesService,
  ) {
    this.batcher = new MicroBatcher<Requested>({
      maxSize: config.DELIVERY_BATCH_SIZE,
      maxDelayMs: config.DELIVERY_BATCH_WAIT_MS,
      concurrentFlushes: true,
      flush: (batch) => messages.acceptMany(batch),
    });
  }

  /**
   * Acked once the ledger rows of its batch are claimed and their send jobs enqueued. When the
   * batch fails as a whole (one request naming a customer that does not exist fails the statement),
   * each request of it is tried alone, so only the bad one is nak'ed (and dead-lettered in the end);
   * anything done before the failure is found by the idempotency keys and not done twice.
   */
  @JetStreamEventPattern(Subjects.deliveryRequested, { concurrency: IN_FLIGHT })
  async onRequested(@Payload() request: Requested) {
    try {
      await this.batcher.add(request);
    } catch {
      await this.messages.acceptMany([request]);
    }
  }
}
