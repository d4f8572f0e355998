import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern, type JetStreamContext } from '@cdp/messaging';
import { INGEST_BATCH_CONCURRENCY, INGEST_CONCURRENCY, IngestService } from './ingest.service';

@Controller()
export class IngestConsumer {
  constructor(private readonly ingest: IngestService) {}

  /** Resolves when the call's batch is stored and announced; the transport acks only then. */
  @JetStreamEventPattern(Subjects.ingestAccepted, { concurrency: INGEST_CONCURRENCY })
  async onAccepted(
    @Payload() call: PayloadOf<typeof Subjects.ingestAccepted>,
    @Ctx() ctx: JetStreamContext,
  ): Promise<void> {
    await this.ingest.store(call, { alone: ctx.isLastDelivery });
  }

  /** The calls of a batch request go into the same micro-batches; acked once all are stored and announced. */
  @JetStreamEventPattern(Subjects.ingestBatchAccepted, { concurrency: INGEST_BATCH_CONCURRENCY })
  async onBatchAccepted(
    @Payload() message: PayloadOf<typeof Subjects.ingestBatchAccepted>,
    @Ctx() ctx: JetStreamContext,
  ): Promise<void> {
    await this.ingest.storeAll(message.calls, { alone: ctx.isLastDelivery });
  }
}
