import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  CreateApiKeyRequest,
  CreateSourceRequest,
  RotateWriteKeyRequest,
  UpdateSourceRequest,
} from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, RequireScope, type Principal } from '@cdp/service-kit';
import { ApiKeysService } from './api-keys.service';
import { SourcesService } from './sources.service';

/** Sources and their write keys. Reading needs `sources:read`; what makes or changes a key needs `admin`. */
@Controller('v1/sources')
@UseGuards(ApiKeyGuard)
@RequireScope('sources:read')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.sources.list(p.workspaceId);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.sources.get(p.workspaceId, id);
  }

  @RequireScope('admin')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.sources.create(p.workspaceId, parseBody(CreateSourceRequest, body));
  }

  @RequireScope('admin')
  @Patch(':id')
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.sources.update(p.workspaceId, id, parseBody(UpdateSourceRequest, body));
  }

  @RequireScope('admin')
  @Post(':id/write-key/rotate')
  @HttpCode(200)
  rotate(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: unknown) {
    return this.sources.rotate(p.workspaceId, id, parseBody(RotateWriteKeyRequest, body ?? {}));
  }
}

/** Management API keys of the workspace; every call needs an `admin` key (no scope named: admin). */
@Controller('v1/api-keys')
@UseGuards(ApiKeyGuard)
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  list(@CurrentPrincipal() p: Principal) {
    return this.keys.list(p.workspaceId);
  }

  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.keys.create(p, parseBody(CreateApiKeyRequest, body));
  }

  @Delete(':id')
  revoke(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.keys.revoke(p.workspaceId, id);
  }
}
