import { Module } from '@nestjs/common';
import { PlanObservationsService } from './plan-observations.service';
import { PlanReportsService } from './plan-reports.service';
import { TrackingPlansController } from './tracking-plans.controller';
import { TrackingPlansService } from './tracking-plans.service';

@Module({
  controllers: [TrackingPlansController],
  providers: [TrackingPlansService, PlanObservationsService, PlanReportsService],
  exports: [TrackingPlansService, PlanObservationsService],
})
export class TrackingPlansModule {}
