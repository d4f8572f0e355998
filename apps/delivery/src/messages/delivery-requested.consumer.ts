import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamBatchContext, JetStreamBatchPattern, type JetStreamBatchFailures } from '@cdp/messaging';
import { MicroBatcher, SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { MessagesService, type TakenRequest } from './messages.service';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

/**
 * Requests written to the ledger in one statement (and acked together), unless DELIVERY_BATCH_SIZE
 * is larger; their send jobs carry DELIVERY_BATCH_SIZE messages each. Four jobs' worth cuts the
 * ledger's statements and commits per message to a quarter (see the README's Benchmark).
 */
const INTAKE_BATCH = 200;
/**
 * Requests in flight at once in this process: new batches fill while earlier ones are written (a
 * commit waits for its WAL flush). Within JetStream's default of 1,000 unacknowledged messages
 * per consumer.
 */
const IN_FLIGHT = 4 * INTAKE_BATCH;

@Controller()
export class DeliveryRequestedConsumer {
  private readonly batcher: MicroBatcher<TakenRequest>;

  constructor(
    @Inject(SERVICE_CONFIG) config: DeliveryConfig,
    private readonly messages: MessagesService,
  ) {
    this.batcher = new MicroBatcher<TakenRequest>({
      maxSize: Math.max(INTAKE_BATCH, config.DELIVERY_BATCH_SIZE),
      maxDelayMs: config.DELIVERY_BATCH_WAIT_MS,
      concurrentFlushes: true,
      flush: (batch) => messages.acceptMany(batch),
    });
  }

  /**
   * The requests a pull brought, in one handler call (Nest's handler pipeline once per pull, not
   * per request). Each is acked once the ledger rows of its batch (INTAKE_BATCH, gathered
   * for DELIVERY_BATCH_WAIT_MS) are claimed and their send jobs enqueued. When a batch fails as a
   * whole (one request naming a customer that does not exist fails the statement), each request
   * of it is tried alone, so only the bad one is nak'ed (and dead-lettered in the end); anything
   * done before the failure is found by the idempotency keys and not done twice.
   */
  @JetStreamBatchPattern(Subjects.deliveryRequested, { concurrency: IN_FLIGHT })
  async onRequested(
    @Payload() requests: Requested[],
    @Ctx() ctx: JetStreamBatchContext,
  ): Promise<JetStreamBatchFailures> {
    const failures = new Map<number, unknown>();
    await Promise.all(
      requests.map((request, i) => {
        // Its place on the stream goes into the ledger, to rebuild a send job Redis might lose.
        const taken = { request, seq: ctx.messages[i]!.streamSequence };
        return this.batcher
          .add(taken)
          .catch(() => this.messages.acceptMany([taken]))
          .catch((error: unknown) => void failures.set(i, error));
      }),
    );
    return failures;
  }
}
