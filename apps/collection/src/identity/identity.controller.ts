import { Body, Controller, Get, HttpCode, Post, Put, UseGuards } from '@nestjs/common';
import { IdentityRules, IdentityRulesPreviewRequest } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { IdentityRulesService } from './identity-rules.service';

/** Identity-resolution rules of the caller's workspace. */
@Controller('v1/identity/rules')
@UseGuards(ApiKeyGuard)
@RequireScope('identity:read')
export class IdentityRulesController {
  constructor(private readonly rules: IdentityRulesService) {}

  @Get()
  async get(@CurrentPrincipal() p: Principal) {
    return { rules: await this.rules.rulesOf(p.workspaceId) };
  }

  @RequireScope('identity:write')
  @Put()
  async replace(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const { rules } = parseBody(IdentityRules, body);
    return { rules: await this.rules.replace(p.workspaceId, rules, `api_key:${p.apiKeyId}`) };
  }

  /** Which existing customers the given rules would merge; changes nothing. */
  @Post('preview')
  @HttpCode(200)
  preview(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.rules.preview(p.workspaceId, parseBody(IdentityRulesPreviewRequest, body));
  }
}
