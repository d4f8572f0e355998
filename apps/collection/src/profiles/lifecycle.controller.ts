import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { LifecycleRules } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal } from '@cdp/service-kit';
import { LifecycleService } from './lifecycle.service';

@Controller('v1/lifecycle/rules')
@UseGuards(ApiKeyGuard)
export class LifecycleController {
  constructor(private readonly lifecycle: LifecycleService) {}

  @Get()
  get(@CurrentPrincipal() p: Principal) {
    return this.lifecycle.rules(p.workspaceId);
  }

  @Put()
  put(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.lifecycle.setRules(p.workspaceId, parseBody(LifecycleRules, body));
  }
}
