import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  queryEnum,
  RequireScope,
  uuidParam,
  type Principal,
} from '@cdp/service-kit';
import { SegmentsService } from './segments.service';

/** Analysis's part of a Customer 360: the segments a customer is in (and, with history, was in). */
@Controller('v1/customers')
@UseGuards(ApiKeyGuard)
@RequireScope('segments:read')
export class CustomerSegmentsController {
  constructor(private readonly segments: SegmentsService) {}

  @Get(':id/segments')
  segmentsOf(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query('history') history?: string) {
    return this.segments.segmentsOf(
      p.workspaceId,
      uuidParam(id, 'id'),
      queryEnum(history, 'history', ['true', 'false']) === 'true',
    );
  }
}
