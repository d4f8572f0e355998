import { Module } from '@nestjs/common';
import { WriteKeyGuard } from '../sources/write-key.guard';
import { TrackingPlansModule } from '../tracking-plans/tracking-plans.module';
import { TrackingController } from './tracking.controller';
import { TrackingService } from './tracking.service';

@Module({
  imports: [TrackingPlansModule],
  controllers: [TrackingController],
  providers: [TrackingService, WriteKeyGuard],
  exports: [TrackingService],
})
export class TrackingModule {}
