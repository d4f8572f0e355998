import { Body, Controller, Get, Post, UseGuards } from '@nestjs/common';
import { CreateCampaignRequest } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
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
}
