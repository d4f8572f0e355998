import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { IdentifyCall, TrackCall } from '@cdp/contracts';
import { parseBody } from '@cdp/service-kit';
import { CurrentSource } from '../sources/current-source.decorator';
import { WriteKeyGuard, type SourceContext } from '../sources/write-key.guard';
import { TrackingService } from './tracking.service';

/** Segment-compatible HTTP tracking API. 200 means the call is durable (JetStream acked). */
@Controller('v1')
@UseGuards(WriteKeyGuard)
export class TrackingController {
  constructor(private readonly tracking: TrackingService) {}

  @Post('track')
  @HttpCode(200)
  async track(@CurrentSource() source: SourceContext, @Body() body: unknown) {
    const call = parseBody(TrackCall, body);
    await this.tracking.accept(source, { ...call, type: 'track' });
    return { success: true };
  }

  @Post('identify')
  @HttpCode(200)
  async identify(@CurrentSource() source: SourceContext, @Body() body: unknown) {
    const call = parseBody(IdentifyCall, body);
    await this.tracking.accept(source, { ...call, type: 'identify' });
    return { success: true };
  }
}
