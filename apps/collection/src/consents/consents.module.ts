import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { ConsentChangedConsumer } from './consent-changed.consumer';
import { ConsentsController } from './consents.controller';
import { ConsentsService } from './consents.service';

@Module({
  imports: [HistoryModule],
  controllers: [ConsentsController, ConsentChangedConsumer],
  providers: [ConsentsService],
  exports: [ConsentsService],
})
export class ConsentsModule {}
