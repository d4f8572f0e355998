import { Module } from '@nestjs/common';
import { SourcesModule } from '../sources/sources.module';
import { TrackingPlansModule } from '../tracking-plans/tracking-plans.module';
import { TrackingController } from './tracking.controller';
import { TrackingService } from './tracking.service';

@Module({
  imports: [SourcesModule, TrackingPlansModule],
  controllers: [TrackingController],
  providers: [TrackingService],
  exports: [TrackingService],
})
export class TrackingModule {}
