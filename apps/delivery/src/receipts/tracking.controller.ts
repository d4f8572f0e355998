import { Body, Controller, Get, Header, HttpCode, Param, Post, Res } from '@nestjs/common';
import { invalidInput } from '@cdp/service-kit';
import { EngagementService } from './engagement.service';

/** The smallest transparent GIF (43 bytes). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

interface Reply {
  status(code: number): Reply;
  header(name: string, value: string): Reply;
  send(body?: unknown): Reply;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">${body}</body></html>`;
}

/** Links inside sent messages: open pixel, click redirect, one-click unsubscribe (RFC 8058). Public, authenticated by the signed token. */
@Controller()
export class TrackingController {
  constructor(private readonly engagement: EngagementService) {}

  @Get('t/o/:file')
  async open(@Param('file') file: string, @Res() reply: Reply): Promise<void> {
    const claims = this.engagement.claims(file.replace(/\.gif$/, ''));
    await this.engagement.opened(claims);
    reply.header('Content-Type', 'image/gif').header('Cache-Control', 'no-store, max-age=0').send(PIXEL);
  }

  @Get('t/c/:token')
  async click(@Param('token') token: string, @Res() reply: Reply): Promise<void> {
    const claims = this.engagement.claims(token);
    const target = this.engagement.clickTarget(claims);
    await this.engagement.clicked(claims);
    reply.status(302).header('Location', target).header('Cache-Control', 'no-store').send();
  }

  /** A person following the link sees a button; only the POST unsubscribes (link scanners only GET). */
  @Get('u/:token')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  confirm(@Param('token') token: string): string {
    this.engagement.claims(token);
    return page(
      'Unsubscribe',
      `<h1>Unsubscribe</h1><p>Stop receiving marketing messages on this channel?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  }

  @Post('u/:token')
  @HttpCode(200)
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async unsubscribe(@Param('token') token: string, @Body() body: unknown): Promise<string> {
    const claims = this.engagement.claims(token);
    const value =
      body && typeof body === 'object' ? (body as Record<string, unknown>)['List-Unsubscribe'] : undefined;
    if (value !== 'One-Click') throw invalidInput('/List-Unsubscribe', 'must be "One-Click" (RFC 8058)');
    await this.engagement.unsubscribe(claims);
    return page(
      'Unsubscribed',
      '<h1>You are unsubscribed</h1><p>You will no longer receive marketing messages on this channel.</p>',
    );
  }
}
