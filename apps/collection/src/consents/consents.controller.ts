import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, type Principal, RequireScope } from '@cdp/service-kit';
import { ConsentsService } from './consents.service';

@Controller('v1/customers/:customerId/consents')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:read')
export class ConsentsController {
  constructor(private readonly consents: ConsentsService) {}

  /** Every consent of the customer, one per (purpose, channel), with when it was granted and withdrawn. */
  @Get()
  list(@CurrentPrincipal() p: Principal, @Param('customerId') customerId: string) {
    return this.consents.list(p.workspaceId, customerId);
  }
}
