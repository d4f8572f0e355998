import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, queryInteger, type Principal, RequireScope } from '@cdp/service-kit';
import { DeadLettersService } from './dead-letters.service';

@Controller('v1/dead-letters')
@UseGuards(ApiKeyGuard)
@RequireScope('dead_letters:read')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  list(@CurrentPrincipal() p: Principal, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.deadLetters.list(
      p.workspaceId,
      queryInteger(limit, 'limit', { min: 1, max: 500, default: 50 }),
      cursor,
    );
  }

  @RequireScope('dead_letters:write')
  @Post(':id/replay')
  @HttpCode(202)
  replay(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.deadLetters.replay(p.workspaceId, id);
  }
}
