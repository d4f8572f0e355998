import { Module } from '@nestjs/common';
import { ApiKeyUsesHandler } from './api-key-uses.handler';
import { ApiKeysService } from './api-keys.service';
import { SourceKeys } from './source-keys';
import { ApiKeysController, SourcesController } from './sources.controller';
import { SourcesService } from './sources.service';
import { WriteKeyGuard } from './write-key.guard';

/** Sources, their write keys (and the guard that checks them), and management API keys. */
@Module({
  controllers: [SourcesController, ApiKeysController, ApiKeyUsesHandler],
  providers: [SourcesService, ApiKeysService, SourceKeys, WriteKeyGuard],
  exports: [SourceKeys, WriteKeyGuard],
})
export class SourcesModule {}
