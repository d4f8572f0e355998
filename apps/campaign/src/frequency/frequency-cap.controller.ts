import { Body, Controller, Delete, Get, Put, UseGuards } from '@nestjs/common';
import { FrequencyCapRequest } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { FrequencyCapsService } from './frequency-caps.service';

/** The workspace's frequency cap on marketing sends (one per workspace, over all campaigns). */
@Controller('v1/frequency-cap')
@UseGuards(ApiKeyGuard)
@RequireScope('campaigns:read')
export class FrequencyCapController {
  constructor(private readonly caps: FrequencyCapsService) {}

  @Get()
  async get(@CurrentPrincipal() p: Principal) {
    return { frequencyCap: await this.caps.get(p.workspaceId) };
  }

  @RequireScope('campaigns:write')
  @Put()
  async set(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const cap = parseBody(FrequencyCapRequest, body);
    return { frequencyCap: await this.caps.set(p.workspaceId, cap, `api-key:${p.apiKeyId}`) };
  }

  @RequireScope('campaigns:write')
  @Delete()
  remove(@CurrentPrincipal() p: Principal) {
    return this.caps.remove(p.workspaceId);
  }
}
