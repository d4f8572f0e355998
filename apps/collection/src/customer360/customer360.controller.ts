import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, RequireScope, uuidParam, type Principal } from '@cdp/service-kit';
import { Customer360Service } from './customer360.service';

@Controller('v1/customers')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:read')
export class Customer360Controller {
  constructor(private readonly view: Customer360Service) {}

  /** Everything staff should see of one customer, in one call (see Customer360Service). */
  @Get(':id/360')
  customer360(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.view.view(p.workspaceId, uuidParam(id, 'id'));
  }
}
