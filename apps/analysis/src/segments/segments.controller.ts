import { BadRequestException, Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CreateSegmentRequest } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal } from '@cdp/service-kit';
import { SegmentsService } from './segments.service';

@Controller('v1/segments')
@UseGuards(ApiKeyGuard)
export class SegmentsController {
  constructor(private readonly segments: SegmentsService) {}

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
    const take = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(take) || take < 1 || take > 1000)
      throw new BadRequestException({
        statusCode: 400,
        message: 'Invalid query',
        issues: [{ path: '/limit', reason: 'an integer from 1 to 1000' }],
      });
    return this.segments.members(p.workspaceId, id, take, cursor);
  }
}
