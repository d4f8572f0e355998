import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { invalidInput } from '@cdp/service-kit';
import { EngagementService } from './engagement.service';

/** The smallest transparent GIF (43 bytes). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

interface Reply {
  status(code: number): Reply;
  header(name: string, value: string): Reply;
  send(body?: unknown): Reply;
}

/** Errors go through the JSON error filter; only a success is an HTML page. */
function sendPage(reply: Reply, title: string, body: string): void {
  reply
    .status(200)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">${body}</body></html>`,
    );
}

/**
 * Links inside sent messages: open pixel, click redirect, one-click unsubscribe (RFC 8058). Public,
 * authenticated by the signed token. Tokens are longer than Fastify's 100-character limit for a
 * route parameter, so the routes take the rest of the path (`*`) as the token.
 */
@Controller()
export class TrackingController {
  constructor(private readonly engagement: EngagementService) {}

  @Get('t/o/*')
  async open(@Param('*') file: string, @Res() reply: Reply): Promise<void> {
    const claims = this.engagement.claims(file.replace(/\.gif$/, ''));
    await this.engagement.opened(claims);
    reply.header('Content-Type', 'image/gif').header('Cache-Control', 'no-store, max-age=0').send(PIXEL);
  }

  @Get('t/c/*')
  async click(@Param('*') token: string, @Res() reply: Reply): Promise<void> {
    const claims = this.engagement.claims(token);
    const target = this.engagement.clickTarget(claims);
    await this.engagement.clicked(claims);
    reply.status(302).header('Location', target).header('Cache-Control', 'no-store').send();
  }

  /** A person following the link sees a button; only the POST unsubscribes (link scanners only GET). */
  @Get('u/*')
  confirm(@Param('*') token: string, @Res() reply: Reply): void {
    this.engagement.claims(token);
    sendPage(
      reply,
      'Unsubscribe',
      `<h1>Unsubscribe</h1><p>Stop receiving marketing messages on this channel?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  }

  @Post('u/*')
  async unsubscribe(@Param('*') token: string, @Body() body: unknown, @Res() reply: Reply): Promise<void> {
    const claims = this.engagement.claims(token);
    const value =
      body && typeof body === 'object' ? (body as Record<string, unknown>)['List-Unsubscribe'] : undefined;
    if (value !== 'One-Click') throw invalidInput('/List-Unsubscribe', 'must be "One-Click" (RFC 8058)');
    await this.engagement.unsubscribe(claims);
    sendPage(
      reply,
      'Unsubscribed',
      '<h1>You are unsubscribed</h1><p>You will no longer receive marketing messages on this channel.</p>',
    );
  }
}
