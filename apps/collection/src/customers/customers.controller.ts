import { Controller, Delete, Get, NotFoundException, Param, Query, UseGuards } from '@nestjs/common';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  invalidInput,
  queryEnum,
  queryInteger,
  type Principal,
  RequireScope,
  uuidParam,
} from '@cdp/service-kit';
import { CustomersService } from './customers.service';
import { ErasureService } from './erasure.service';

const IDENTIFIER_TYPES = ['user_id', 'anonymous_id', 'email', 'phone', 'device_id', 'external_key'];

@Controller('v1/customers')
@UseGuards(ApiKeyGuard)
@RequireScope('customers:read')
export class CustomersController {
  constructor(
    private readonly customers: CustomersService,
    private readonly erasure: ErasureService,
  ) {}

  /** Find a customer by any identifier: `GET /v1/customers?identifierType=email&identifierValue=a@b.c`. */
  @Get()
  async find(
    @CurrentPrincipal() p: Principal,
    @Query('identifierType') type?: string,
    @Query('identifierValue') value?: string,
  ) {
    if (!type || !IDENTIFIER_TYPES.includes(type))
      throw invalidInput('/identifierType', `one of ${IDENTIFIER_TYPES.join(', ')}`, 'Invalid query');
    if (!value) throw invalidInput('/identifierValue', 'required', 'Invalid query');
    const customer = await this.customers.findByIdentifier(p.workspaceId, type, value);
    if (!customer) throw new NotFoundException('No customer has this identifier');
    return customer;
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.customers.get(p.workspaceId, id);
  }

  /**
   * Right to erasure: deletes the customer's personal data (identities, traits and contact data,
   * events, contracts, transactions, consultations, consents, devices) and keeps a pseudonymous
   * tombstone; a separate scope, so a key that reads or writes customers cannot erase them.
   * `?suppress=false` leaves the person's identifiers off the suppression list.
   */
  @RequireScope('customers:erase')
  @Delete(':id')
  erase(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query('suppress') suppress?: string) {
    return this.erasure.erase(p.workspaceId, uuidParam(id, 'id'), `api_key:${p.apiKeyId}`, {
      suppress: queryEnum(suppress, 'suppress', ['true', 'false']) !== 'false',
    });
  }

  @Get(':id/events')
  events(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    const take = queryInteger(limit, 'limit', { min: 1, max: 500, default: 50 });
    if (cursor !== undefined && !/^\d{1,19}$/.test(cursor))
      throw invalidInput('/cursor', 'a cursor from nextCursor', 'Invalid query');
    return this.customers.timeline(p.workspaceId, id, take, cursor);
  }
}
