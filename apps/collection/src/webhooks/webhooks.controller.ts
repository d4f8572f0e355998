import { Body, Controller, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { WebhookMapping, WebhookPreviewRequest } from '@cdp/contracts';
import { ApiKeyGuard, CurrentPrincipal, parseBody, type Principal, RequireScope } from '@cdp/service-kit';
import { CurrentSource } from '../sources/current-source.decorator';
import { WriteKeyGuard, type SourceContext } from '../sources/write-key.guard';
import { WebhooksService } from './webhooks.service';

/** Third parties post here with the source's write key (HTTP Basic, e.g. https://<write key>:@host/v1/webhooks). */
@Controller('v1/webhooks')
@UseGuards(WriteKeyGuard)
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(200)
  receive(@CurrentSource() source: SourceContext, @Body() body: unknown) {
    return this.webhooks.receive(source, body);
  }
}

@Controller('v1/sources/:sourceId/webhook-mapping')
@UseGuards(ApiKeyGuard)
@RequireScope('sources:read')
export class WebhookMappingController {
  constructor(private readonly webhooks: WebhooksService) {}

  @RequireScope('sources:write')
  @Put()
  set(@CurrentPrincipal() p: Principal, @Param('sourceId') sourceId: string, @Body() body: unknown) {
    return this.webhooks.setMapping(p.workspaceId, sourceId, parseBody(WebhookMapping, body));
  }

  @Post('preview')
  @HttpCode(200)
  async preview(
    @CurrentPrincipal() p: Principal,
    @Param('sourceId') sourceId: string,
    @Body() body: unknown,
  ) {
    const request = parseBody(WebhookPreviewRequest, body);
    return this.webhooks.preview(
      request.mapping ?? (await this.webhooks.mappingOf(p.workspaceId, sourceId)),
      request.payload,
    );
  }
}
