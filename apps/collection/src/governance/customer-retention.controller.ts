import { Body, Controller, Param, Put, UseGuards } from '@nestjs/common';
import { CustomerRetention } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  type Principal,
  RequireScope,
  uuidParam,
} from '@cdp/service-kit';
import { RetentionService } from './retention.service';

/** Setting when a customer is disposed of schedules its erasure: the erase scope. */
@Controller('v1/customers')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:erase')
export class CustomerRetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Put(':id/retention')
  put(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    const { expiresAt } = parseBody(CustomerRetention, body);
    return this.retention.setCustomerExpiry(
      p.workspaceId,
      uuidParam(id, 'id'),
      expiresAt === null ? null : new Date(expiresAt),
      `api_key:${p.apiKeyId}`,
    );
  }
}
