import { Module } from '@nestjs/common';
import { WriteKeyGuard } from '../sources/write-key.guard';
import { TrackingController } from './tracking.controller';
import { TrackingService } from './tracking.service';

@Module({
  controllers: [TrackingController],
  providers: [TrackingService, WriteKeyGuard],
  exports: [TrackingService],
})
export class TrackingModule {}
