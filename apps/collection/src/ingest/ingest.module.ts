import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { IngestConsumer } from './ingest.consumer';
import { IngestService } from './ingest.service';

@Module({
  imports: [HistoryModule],
  controllers: [IngestConsumer],
  providers: [IngestService],
})
export class IngestModule {}
