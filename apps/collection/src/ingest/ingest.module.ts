import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { IngestConsumer } from './ingest.consumer';
import { IngestService } from './ingest.service';

@Module({
  imports: [HistoryModule, ProfilesModule],
  controllers: [IngestConsumer],
  providers: [IngestService],
})
export class IngestModule {}
