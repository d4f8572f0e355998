import { Body, Controller, Get, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { CreateCampaignRequest, UpdateCampaignRequest } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  type Principal,
  RequireScope,
  uuidParam,
} from '@cdp/service-kit';
import { CampaignsService } from './campaigns.service';

@Controller('v1/campaigns')
@UseGuards(ApiKeyGuard)
@RequireScope('campaigns:read')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @RequireScope('campaigns:write')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.campaigns.create(
      p.workspaceId,
      parseBody(CreateCampaignRequest, body),
      `api-key:${p.apiKeyId}`,
    );
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.campaigns.list(p.workspaceId);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.campaigns.get(p.workspaceId, uuidParam(id, 'id'));
  }

  @Get(':id/assignments')
  assignments(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.campaigns.assignments(p.workspaceId, uuidParam(id, 'id'));
  }

  @RequireScope('campaigns:write')
  @Patch(':id')
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.campaigns.update(p.workspaceId, uuidParam(id, 'id'), parseBody(UpdateCampaignRequest, body));
  }
}
