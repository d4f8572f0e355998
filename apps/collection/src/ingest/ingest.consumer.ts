import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { JetStreamEventPattern } from '@cdp/messaging';
import { IngestService } from './ingest.service';

@Controller()
export class IngestConsumer {
  constructor(private readonly ingest: IngestService) {}

  @JetStreamEventPattern(Subjects.ingestAccepted)
  async onAccepted(@Payload() call: PayloadOf<typeof Subjects.ingestAccepted>) {
    await this.ingest.store(call);
  }
}
