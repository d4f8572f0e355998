import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { DeliveryChannel, MessageStatus } from '@cdp/db';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  invalidInput,
  queryDateTime,
  queryEnum,
  queryInteger,
  RequireScope,
  type Principal,
} from '@cdp/service-kit';
import { LedgerQueriesService } from './ledger-queries.service';
import { MessagesService } from './messages.service';

@Controller('v1/messages')
@UseGuards(ApiKeyGuard)
@RequireScope('messages:read')
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly ledger: LedgerQueriesService,
  ) {}

  /**
   * Messages per ledger status; `queued` + `sending` is what is still on its way. Optionally only
   * those requested in [since, until), of one channel or of one campaign run.
   */
  @Get('stats')
  stats(
    @CurrentPrincipal() p: Principal,
    @Query('since') since?: string,
    @Query('until') until?: string,
    @Query('channel') channel?: string,
    @Query('campaignRunId') campaignRunId?: string,
  ) {
    const from = queryDateTime(since, 'since');
    const to = queryDateTime(until, 'until');
    if (from && to && to <= from) throw invalidInput('/until', 'after since', 'Invalid query');
    return this.messages.stats(p.workspaceId, {
      since: from,
      until: to,
      channel: queryEnum(channel, 'channel', Object.values(DeliveryChannel)),
      campaignRunId,
    });
  }

  /** The workspace's messages, newest first, by status, channel, customer or campaign run. */
  @Get()
  list(
    @CurrentPrincipal() p: Principal,
    @Query('status') status?: string,
    @Query('channel') channel?: string,
    @Query('customerId') customerId?: string,
    @Query('campaignRunId') campaignRunId?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ) {
    const filter = {
      status: queryEnum(status, 'status', Object.values(MessageStatus)),
      channel: queryEnum(channel, 'channel', Object.values(DeliveryChannel)),
      customerId,
      campaignRunId,
    };
    return this.ledger.list(
      p.workspaceId,
      Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)),
      queryInteger(limit, 'limit', { min: 1, max: 500, default: 50 }),
      cursor,
    );
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.ledger.get(p.workspaceId, id);
  }
}
