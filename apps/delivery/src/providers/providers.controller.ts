import { Body, Controller, Delete, Get, HttpCode, Param, Put, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, type Principal, RequireScope } from '@cdp/service-kit';
import { ProvidersService } from './providers.service';

@Controller('v1/providers')
@UseGuards(ApiKeyGuard)
@RequireScope('providers:read')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @RequireScope('providers:write')
  @Put(':channel')
  put(@CurrentPrincipal() p: Principal, @Param('channel') channel: string, @Body() body: unknown) {
    return this.providers.put(p.workspaceId, channel, body);
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.providers.list(p.workspaceId);
  }

  @RequireScope('providers:write')
  @Delete(':channel')
  @HttpCode(204)
  remove(@CurrentPrincipal() p: Principal, @Param('channel') channel: string) {
    return this.providers.remove(p.workspaceId, channel);
  }
}
