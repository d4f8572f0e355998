import { Body, Controller, Delete, Get, HttpCode, Param, Put, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, type Principal } from '@cdp/service-kit';
import { ProvidersService } from './providers.service';

@Controller('v1/providers')
@UseGuards(ApiKeyGuard)
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Put(':channel')
  put(@CurrentPrincipal() p: Principal, @Param('channel') channel: string, @Body() body: unknown) {
    return this.providers.put(p.workspaceId, channel, body);
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.providers.list(p.workspaceId);
  }

  @Delete(':channel')
  @HttpCode(204)
  remove(@CurrentPrincipal() p: Principal, @Param('channel') channel: string) {
    return this.providers.remove(p.workspaceId, channel);
  }
}
