import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, type Principal, RequireScope, uuidParam } from '@cdp/service-kit';
import { MergeService } from './merge.service';

/** Merge history of a customer, and undoing a merge. */
@Controller('v1')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:read')
export class MergesController {
  constructor(private readonly merges: MergeService) {}

  @Get('customers/:id/merges')
  history(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.merges.history(p.workspaceId, uuidParam(id, 'id'));
  }

  @RequireScope('identity:write')
  @Post('merges/:id/unmerge')
  @HttpCode(200)
  unmerge(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.merges.unmerge(p.workspaceId, uuidParam(id, 'id'), `api_key:${p.apiKeyId}`);
  }
}
