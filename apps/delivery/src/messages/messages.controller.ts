import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, type Principal, RequireScope } from '@cdp/service-kit';
import { MessagesService } from './messages.service';

@Controller('v1/messages')
@UseGuards(ApiKeyGuard)
@RequireScope('messages:read')
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  /** Messages per ledger status; `queued` + `sending` is what is still on its way. */
  @Get('stats')
  stats(@CurrentPrincipal() p: Principal) {
    return this.messages.stats(p.workspaceId);
  }
}
