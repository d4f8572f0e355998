import { Module } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { AudiencesController } from './audiences.controller';
import { AudiencesService } from './audiences.service';
import { SegmentMembershipConsumer } from './segment-membership.consumer';

@Module({
  imports: [ProvidersModule],
  controllers: [AudiencesController, SegmentMembershipConsumer],
  providers: [AudiencesService],
  exports: [AudiencesService],
})
export class AudiencesModule {}
