import { Body, Controller, Delete, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { SuppressCustomerRequest } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  invalidInput,
  parseBody,
  queryInteger,
  type Principal,
  RequireScope,
  uuidParam,
} from '@cdp/service-kit';
import { SuppressionService } from '../identity/suppressions.service';

/** The suppression list: identifiers whose tracking calls are not stored (types only, never the values). */
@Controller('v1/suppressions')
@UseGuards(ApiKeyGuard)
@RequireScope('governance:read')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionService) {}

  @Get()
  list(
    @CurrentPrincipal() p: Principal,
    @Query('customerCode') customerCode?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    return this.suppressions.list(p.workspaceId, {
      ...(customerCode !== undefined && { customerCode }),
      limit: queryInteger(limit, 'limit', { min: 1, max: 1000, default: 100 }),
      ...(cursor !== undefined && { cursor }),
    });
  }

  /**
   * Stops collecting a live customer's tracking calls without erasing anything (`{ customerId }`;
   * erasure suppresses by itself).
   */
  @RequireScope('governance:write')
  @Post()
  suppress(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    const { customerId } = parseBody(SuppressCustomerRequest, body);
    return this.suppressions.suppressCustomer(p.workspaceId, customerId, `api_key:${p.apiKeyId}`);
  }

  /** Lifts every suppression of one customer (`?customerCode=`): the person is collected again. */
  @RequireScope('governance:write')
  @Delete()
  liftForCustomer(@CurrentPrincipal() p: Principal, @Query('customerCode') customerCode?: string) {
    if (!customerCode)
      throw invalidInput(
        '/customerCode',
        'required: the customer whose suppressions to lift',
        'Invalid query',
      );
    return this.suppressions.lift(p.workspaceId, { customerCode }, `api_key:${p.apiKeyId}`);
  }

  @RequireScope('governance:write')
  @Delete(':id')
  lift(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.suppressions.lift(p.workspaceId, { id: uuidParam(id, 'id') }, `api_key:${p.apiKeyId}`);
  }
}
