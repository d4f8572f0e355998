import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, invalidInput, type Principal, RequireScope } from '@cdp/service-kit';
import { MergeService } from './merge.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidParam(value: string, name: string): string {
  if (!UUID.test(value)) throw invalidInput(`/${name}`, 'a UUID', 'Invalid path');
  return value;
}

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
