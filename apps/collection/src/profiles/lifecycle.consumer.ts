import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { LifecycleService } from './lifecycle.service';

/** Collection listens to its own stored events to move lifecycle stages, apart from the ingest hot path. */
@Controller()
export class LifecycleConsumer {
  constructor(private readonly lifecycle: LifecycleService) {}

  /** Many events in flight, so their stage changes share one statement (see LifecycleService). */
  @JetStreamEventPattern(Subjects.eventIngested, { concurrency: 500 })
  async onEventIngested(@Payload() event: PayloadOf<typeof Subjects.eventIngested>) {
    const stage = await this.lifecycle.stageFor(event);
    if (stage)
      await this.lifecycle.advanceSoon({
        workspaceId: event.workspaceId,
        customerId: event.customerId,
        stage,
        cause: event.messageId,
      });
  }
}
