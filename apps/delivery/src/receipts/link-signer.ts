import { createHmac, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';

/** What a tracking or unsubscribe token vouches for. */
export interface LinkClaims {
  /** Ledger message id. */
  m: string;
  /** Workspace of the message. */
  w: string;
  /** Original URL of a click link: the only place the redirect may go. */
  u?: string;
  /** Channel of the message (unsubscribe withdraws consent for it). */
  c?: string;
}

/**
 * Signs the claims of open, click and unsubscribe links: `<base64url(JSON)>.<base64url(HMAC-SHA256)>`.
 * Anyone can read a token, nobody can change one (a changed URL would make the click link an open redirect).
 */
@Injectable()
export class LinkSigner {
  private readonly secret: string | undefined;

  constructor(@Inject(SERVICE_CONFIG) config: DeliveryConfig) {
    this.secret = config.DELIVERY_LINK_SECRET;
  }

  get enabled(): boolean {
    return this.secret !== undefined;
  }

  sign(claims: LinkClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of an untampered token, else undefined. */
  verify(token: string): LinkClaims | undefined {
    if (!this.secret) return undefined;
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) return undefined;
    const given = Buffer.from(signature, 'base64url');
    const expected = this.mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<LinkClaims>;
      if (typeof claims.m !== 'string' || typeof claims.w !== 'string') return undefined;
      return claims as LinkClaims;
    } catch {
      return undefined;
    }
  }

  private mac(body: string): Buffer {
    if (!this.secret) throw new Error('DELIVERY_LINK_SECRET is not set');
    return createHmac('sha256', this.secret).update(body).digest();
  }
}
