import { Module } from '@nestjs/common';
import { CustomerRefResolver } from '../customers/customer-ref.resolver';
import { HistoryModule } from '../history/history.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { OperationalController } from './operational.controller';
import { OperationalService } from './operational.service';

@Module({
  imports: [HistoryModule, ProfilesModule],
  controllers: [OperationalController],
  providers: [OperationalService, CustomerRefResolver],
  exports: [OperationalService],
})
export class OperationalModule {}
