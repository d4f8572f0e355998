import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamBatchPattern, type JetStreamBatchFailures } from '@cdp/messaging';
import { eachAloneOnFailure } from '../each-alone-on-failure';
import { RestrictionsService } from './restrictions.service';
import { SegmentsService } from './segments.service';

/** Changes per handler call: one membership read and one write for all of them. */
const CHANGE_BATCH = 250;
/** Two batches in flight: the next one is pulled and gathered while one is written. */
const IN_FLIGHT = 2 * CHANGE_BATCH;

/**
 * Segments of a customer's state, entered and left as it changes (acked once applied): lifecycle
 * segments follow the stage, score segments the scores. Changes of a customer whose processing is
 * restricted are passed over.
 */
@Controller()
export class StateChangesConsumer {
  private readonly logger = new Logger(StateChangesConsumer.name);

  constructor(
    private readonly segments: SegmentsService,
    private readonly restrictions: RestrictionsService,
  ) {}

  @JetStreamBatchPattern(Subjects.profileUpdated, { concurrency: IN_FLIGHT, maxMessages: CHANGE_BATCH })
  onProfilesUpdated(
    @Payload() updates: PayloadOf<typeof Subjects.profileUpdated>[],
  ): Promise<JetStreamBatchFailures> {
    return eachAloneOnFailure(
      updates,
      async (batch) => this.segments.onProfilesUpdated(await this.restrictions.withoutRestricted(batch)),
      this.logger,
    );
  }

  @JetStreamBatchPattern(Subjects.scoreUpdated, { concurrency: IN_FLIGHT, maxMessages: CHANGE_BATCH })
  onScoresUpdated(
    @Payload() updates: PayloadOf<typeof Subjects.scoreUpdated>[],
  ): Promise<JetStreamBatchFailures> {
    return eachAloneOnFailure(
      updates,
      async (batch) => this.segments.onScoresUpdated(await this.restrictions.withoutRestricted(batch)),
      this.logger,
    );
  }
}
