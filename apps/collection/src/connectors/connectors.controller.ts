import { Body, Controller, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { PostgresConnectorConfig } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { ConnectorsService } from './connectors.service';

@Controller('v1/sources/:sourceId/connector')
@UseGuards(ApiKeyGuard)
@RequireScope('sources:read')
export class ConnectorsController {
  constructor(private readonly connectors: ConnectorsService) {}

  @RequireScope('sources:write')
  @Put()
  configure(@CurrentPrincipal() p: Principal, @Param('sourceId') sourceId: string, @Body() body: unknown) {
    return this.connectors.configure(p.workspaceId, sourceId, parseBody(PostgresConnectorConfig, body));
  }

  @Get()
  describe(@CurrentPrincipal() p: Principal, @Param('sourceId') sourceId: string) {
    return this.connectors.describe(p.workspaceId, sourceId);
  }

  @RequireScope('sources:write')
  @Post('run')
  @HttpCode(202)
  async run(@CurrentPrincipal() p: Principal, @Param('sourceId') sourceId: string) {
    await this.connectors.runSoon(p.workspaceId, sourceId);
    return { queued: true };
  }
}
