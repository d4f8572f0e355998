import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CreateSegmentRequest } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  queryInteger,
  type Principal,
  RequireScope,
} from '@cdp/service-kit';
import { SegmentsService } from './segments.service';

@Controller('v1/segments')
@UseGuards(ApiKeyGuard)
@RequireScope('segments:read')
export class SegmentsController {
  constructor(private readonly segments: SegmentsService) {}

  @RequireScope('segments:write')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.segments.create(p.workspaceId, parseBody(CreateSegmentRequest, body));
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.segments.list(p.workspaceId);
  }

  @Get(':id/members')
  members(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    const take = queryInteger(limit, 'limit', { min: 1, max: 1000, default: 100 });
    return this.segments.members(p.workspaceId, id, take, cursor);
  }
}
