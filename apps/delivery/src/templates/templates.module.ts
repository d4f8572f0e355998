import { Module } from '@nestjs/common';
import { TemplateRenderer } from './template-renderer';
import { TemplatesController } from './templates.controller';
import { TemplatesService } from './templates.service';

@Module({
  controllers: [TemplatesController],
  providers: [TemplateRenderer, TemplatesService],
  exports: [TemplateRenderer, TemplatesService],
})
export class TemplatesModule {}
