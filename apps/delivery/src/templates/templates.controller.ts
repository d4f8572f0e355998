import { Body, Controller, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { PreviewTemplateRequest, SaveTemplateRequest } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { TemplatesService } from './templates.service';

@Controller('v1/templates')
@UseGuards(ApiKeyGuard)
@RequireScope('templates:read')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @RequireScope('templates:write')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.templates.create(p.workspaceId, parseBody(SaveTemplateRequest, body));
  }

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.templates.list(p.workspaceId);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.templates.get(p.workspaceId, id);
  }

  @RequireScope('templates:write')
  @Put(':id')
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.templates.update(p.workspaceId, id, parseBody(SaveTemplateRequest, body));
  }

  @Post(':id/preview')
  @HttpCode(200)
  preview(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.templates.preview(p.workspaceId, id, parseBody(PreviewTemplateRequest, body));
  }
}
