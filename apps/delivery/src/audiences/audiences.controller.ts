import { Body, Controller, Get, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard, CurrentPrincipal, type Principal, RequireScope } from '@cdp/service-kit';
import { AudiencesService } from './audiences.service';

@Controller('v1/audiences')
@UseGuards(ApiKeyGuard)
@RequireScope('audiences:read')
export class AudiencesController {
  constructor(private readonly audiences: AudiencesService) {}

  @RequireScope('audiences:write')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.audiences.create(p.workspaceId, body);
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.audiences.list(p.workspaceId);
  }
}
