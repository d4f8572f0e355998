import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { LifecycleRules } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { LifecycleService } from './lifecycle.service';

@Controller('v1/lifecycle/rules')
@UseGuards(ApiKeyGuard)
@RequireScope('lifecycle:read')
export class LifecycleController {
  constructor(private readonly lifecycle: LifecycleService) {}

  @Get()
  get(@CurrentPrincipal() p: Principal) {
    return this.lifecycle.rules(p.workspaceId);
  }

  @RequireScope('lifecycle:write')
  @Put()
  put(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.lifecycle.setRules(p.workspaceId, parseBody(LifecycleRules, body));
  }
}
