import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamBatchPattern, type JetStreamBatchFailures } from '@cdp/messaging';
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
   * The requests a pull brought, in one handler call (Nest's handler pipeline once per pull, not
   * per request). Each is acked once the ledger rows of its batch (DELIVERY_BATCH_SIZE, gathered
   * for DELIVERY_BATCH_WAIT_MS) are claimed and their send jobs enqueued. When a batch fails as a
   * whole (one request naming a customer that does not exist fails the statement), each request
   * of it is tried alone, so only the bad one is nak'ed (and dead-lettered in the end); anything
   * done before the failure is found by the idempotency keys and not done twice.
   */
  @JetStreamBatchPattern(Subjects.deliveryRequested, { concurrency: IN_FLIGHT })
  async onRequested(@Payload() requests: Requested[]): Promise<JetStreamBatchFailures> {
    const failures = new Map<number, unknown>();
    await Promise.all(
      requests.map((request, i) =>
        this.batcher
          .add(request)
          .catch(() => this.messages.acceptMany([request]))
          .catch((error: unknown) => void failures.set(i, error)),
      ),
    );
    return failures;
  }
}
