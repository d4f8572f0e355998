import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { AudiencesController } from './audiences.controller';
import { AudiencesService } from './audiences.service';
import { CustomerRestrictedConsumer } from './customer-restricted.consumer';
import { SegmentMembershipConsumer } from './segment-membership.consumer';

@Module({
  imports: [ProvidersModule],
  controllers: [AudiencesController, SegmentMembershipConsumer, CustomerRestrictedConsumer],
  providers: [AudiencesService],
  exports: [AudiencesService],
})
export class AudiencesModule {}
