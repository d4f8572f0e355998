import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { IdentityService } from '../identity/identity.service';
import { IngestConsumer } from './ingest.consumer';
import { IngestService } from './ingest.service';

@Module({
  imports: [HistoryModule],
  controllers: [IngestConsumer],
  providers: [IngestService, IdentityService],
})
export class IngestModule {}
