import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { RetentionPolicyChange } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { RetentionService } from './retention.service';

@Controller('v1/retention')
@UseGuards(ApiKeyGuard)
@RequireScope('governance:read')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get()
  get(@CurrentPrincipal() p: Principal) {
    return this.retention.policy(p.workspaceId);
  }

  @RequireScope('governance:write')
  @Put()
  put(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.retention.setPolicy(
      p.workspaceId,
      `api_key:${p.apiKeyId}`,
      parseBody(RetentionPolicyChange, body),
    );
  }
}
