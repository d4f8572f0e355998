import { Body, Controller, Headers, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { ReceiptsResult } from '@cdp/contracts';
import { CALLBACK_MESSAGE_PARAM } from '../channels/twilio-sms.adapter';
import { ProviderReceiptsService } from './provider-receipts.service';
import type { RequestWithRawBody } from './body-parsers.hook';
import { WebhookSignatures } from './webhook-signatures';

/** Provider delivery receipts: signed webhooks and bounce reports. Authenticated by signature, not API key. */
@Controller('v1/receipts')
export class ReceiptsController {
  constructor(
    private readonly signatures: WebhookSignatures,
    private readonly providers: ProviderReceiptsService,
  ) {}

  @Post('sendgrid')
  @HttpCode(200)
  sendGrid(
    @Req() req: RequestWithRawBody,
    @Body() body: unknown,
    @Headers('x-twilio-email-event-webhook-signature') signature?: string,
    @Headers('x-twilio-email-event-webhook-timestamp') timestamp?: string,
  ): Promise<ReceiptsResult> {
    this.signatures.checkSendGrid(undefined, req.rawBody, signature, timestamp);
    return this.providers.sendGrid(body, undefined);
  }

  /** A workspace with its own SendGrid account (and verification key) points its webhook here. */
  @Post('sendgrid/:workspaceId')
  @HttpCode(200)
  sendGridOfWorkspace(
    @Req() req: RequestWithRawBody,
    @Param('workspaceId') workspaceId: string,
    @Body() body: unknown,
    @Headers('x-twilio-email-event-webhook-signature') signature?: string,
    @Headers('x-twilio-email-event-webhook-timestamp') timestamp?: string,
  ): Promise<ReceiptsResult> {
    this.signatures.checkSendGrid(workspaceId, req.rawBody, signature, timestamp);
    return this.providers.sendGrid(body, workspaceId);
  }

  @Post('twilio')
  @HttpCode(200)
  twilio(
    @Req() req: RequestWithRawBody,
    @Body() body: unknown,
    @Headers('x-twilio-signature') signature?: string,
    @Query(CALLBACK_MESSAGE_PARAM) messageId?: unknown,
  ): Promise<ReceiptsResult> {
    const params = body && typeof body === 'object' ? (body as Record<string, string | string[]>) : {};
    this.signatures.checkTwilio(req.url, params, signature);
    return this.providers.twilio(body, typeof messageId === 'string' ? messageId : undefined);
  }

  /** A mail pipe (e.g. Postfix `| curl --data-binary @- -H 'Content-Type: message/rfc822'`) posts bounces here. */
  @Post('dsn')
  @HttpCode(200)
  dsn(@Body() body: unknown, @Headers('authorization') authorization?: string): Promise<ReceiptsResult> {
    this.signatures.checkDsn(authorization);
    return this.providers.dsn(body);
  }
}
