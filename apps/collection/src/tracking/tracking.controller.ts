import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CurrentSource } from '../sources/current-source.decorator';
import { WriteKeyGuard, type SourceContext } from '../sources/write-key.guard';
import { CurrentRequestFacts } from './request-facts.decorator';
import { TrackingService, type RequestFacts } from './tracking.service';

/**
 * Segment-compatible HTTP tracking API. 200 means every accepted call is durable (JetStream
 * acked); a batch answer lists the calls it refused by index.
 */
@Controller('v1')
@UseGuards(WriteKeyGuard)
export class TrackingController {
  constructor(private readonly tracking: TrackingService) {}

  // Segment documents /v1/import as the same endpoint as /v1/batch.
  @Post(['batch', 'import'])
  @HttpCode(200)
  batch(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptBatch(source, body, request);
  }

  @Post('identify')
  @HttpCode(200)
  identify(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptCall(source, 'identify', body, request);
  }

  @Post('track')
  @HttpCode(200)
  track(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptCall(source, 'track', body, request);
  }

  @Post('page')
  @HttpCode(200)
  page(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptCall(source, 'page', body, request);
  }

  @Post('screen')
  @HttpCode(200)
  screen(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptCall(source, 'screen', body, request);
  }

  @Post('group')
  @HttpCode(200)
  group(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptCall(source, 'group', body, request);
  }

  @Post('alias')
  @HttpCode(200)
  alias(
    @CurrentSource() source: SourceContext,
    @CurrentRequestFacts() request: RequestFacts,
    @Body() body: unknown,
  ) {
    return this.tracking.acceptCall(source, 'alias', body, request);
  }
}
