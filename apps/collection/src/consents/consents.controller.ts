import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { RecordConsentRequest } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  type Principal,
  RequireScope,
  uuidParam,
} from '@cdp/service-kit';
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

  /** Records a consent given or withdrawn (preference centre, branch, call centre). */
  @RequireScope('customers:write')
  @Put()
  record(@CurrentPrincipal() p: Principal, @Param('customerId') customerId: string, @Body() body: unknown) {
    return this.consents.recordRequest(
      p.workspaceId,
      uuidParam(customerId, 'customerId'),
      parseBody(RecordConsentRequest, body),
      `api_key:${p.apiKeyId}`,
    );
  }
}
