import { Body, Controller, Delete, Get, Put, Query, UseGuards } from '@nestjs/common';
import { FREQUENCY_CAP_CHANNELS, FrequencyCapRequest } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  type Principal,
  queryEnum,
  RequireScope,
} from '@cdp/service-kit';
import { FrequencyCapsService } from './frequency-caps.service';

/** The workspace's frequency caps on marketing sends (over all campaigns: one for all channels, one per channel). */
@Controller('v1/frequency-cap')
@UseGuards(ApiKeyGuard)
@RequireScope('campaigns:read')
export class FrequencyCapController {
  constructor(private readonly caps: FrequencyCapsService) {}

  @Get()
  get(@CurrentPrincipal() p: Principal) {
    return this.caps.get(p.workspaceId);
  }

  @RequireScope('campaigns:write')
  @Put()
  async set(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const cap = parseBody(FrequencyCapRequest, body);
    return { frequencyCap: await this.caps.set(p.workspaceId, cap, `api-key:${p.apiKeyId}`) };
  }

  /** `?channel=sms` removes that channel's cap; without it, the one over all channels. */
  @RequireScope('campaigns:write')
  @Delete()
  remove(@CurrentPrincipal() p: Principal, @Query('channel') channel?: string) {
    return this.caps.remove(p.workspaceId, queryEnum(channel, 'channel', FREQUENCY_CAP_CHANNELS));
  }
}
