import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamBatchPattern, type JetStreamBatchFailures } from '@cdp/messaging';
import { eachAloneOnFailure } from '../each-alone-on-failure';
import { ScoresService } from '../scores/scores.service';
import { RestrictionsService } from './restrictions.service';
import { SegmentsService } from './segments.service';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;

/**
 * Events per handler call: one score transaction and a few membership statements for all of
 * them, instead of one per event (the transaction's commit waits for the WAL flush).
 */
const EVENT_BATCH = 250;

/**
 * Each stored event counts in its customer's score and may make them enter segments (both
 * idempotent), for the live customer: the survivor if the event's customer was merged meanwhile.
 * Events of a customer whose processing is restricted are passed over.
 */
@Controller()
export class EventIngestedConsumer {
  private readonly logger = new Logger(EventIngestedConsumer.name);

  constructor(
    private readonly scores: ScoresService,
    private readonly segments: SegmentsService,
    private readonly restrictions: RestrictionsService,
  ) {}

  /** Two batches in flight: the next one is pulled and gathered while one is written. */
  @JetStreamBatchPattern(Subjects.eventIngested, { concurrency: 2 * EVENT_BATCH, maxMessages: EVENT_BATCH })
  onEventsIngested(@Payload() events: Ingested[]): Promise<JetStreamBatchFailures> {
    return eachAloneOnFailure(events, (batch) => this.handle(batch), this.logger);
  }

  private async handle(batch: readonly Ingested[]): Promise<void> {
    const events = await this.restrictions.withoutRestricted(batch);
    if (!events.length) return;
    // An event of a customer merged away after it was stored counts for the survivor.
    const live = await this.scores.onEventsIngested(events);
    await this.segments.onEventsIngested(events.map((event, i) => ({ ...event, customerId: live[i]! })));
  }
}
