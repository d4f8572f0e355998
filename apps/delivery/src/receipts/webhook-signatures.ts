import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';

/** Reads a verification key given as PEM or as SendGrid shows it (base64 of the DER SubjectPublicKeyInfo). */
export function publicKeyOf(key: string): KeyObject {
  return key.includes('-----BEGIN')
    ? createPublicKey(key)
    : createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' });
}

/**
 * SendGrid's signed Event Webhook: ECDSA (P-256, SHA-256) over the timestamp header followed by
 * the raw body, DER signature in base64. Nothing but the exact bytes received can be verified.
 */
export function verifySendGridSignature(
  key: KeyObject,
  rawBody: Buffer,
  signature: string,
  timestamp: string,
): boolean {
  try {
    return verify(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]),
      key,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/** Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the full URL followed by each POST parameter (sorted by name) as name + value. */
export function twilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string | string[]>,
): string {
  const data = Object.keys(params)
    .sort()
    .map((name) => {
      const value = params[name] ?? '';
      return (Array.isArray(value) ? [...value].sort() : [value]).map((v) => name + v).join('');
    })
    .join('');
  return createHmac('sha1', authToken)
    .update(url + data)
    .digest('base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks that a receipt really comes from the provider: 401 when unsigned, 403 when the signature is wrong or no key is configured. */
@Injectable()
export class WebhookSignatures {
  private readonly sendGridKey: KeyObject | undefined;
  private readonly sendGridWorkspaceKeys = new Map<string, KeyObject>();
  private readonly twilioToken: string | undefined;
  private readonly dsnToken: string | undefined;
  private readonly publicBase: string;

  constructor(@Inject(SERVICE_CONFIG) config: DeliveryConfig) {
    try {
      if (config.SENDGRID_WEBHOOK_PUBLIC_KEY)
        this.sendGridKey = publicKeyOf(config.SENDGRID_WEBHOOK_PUBLIC_KEY);
      for (const pair of config.SENDGRID_WEBHOOK_PUBLIC_KEYS?.split(',') ?? []) {
        const [workspaceId, key] = pair.split(':') as [string, string];
        this.sendGridWorkspaceKeys.set(workspaceId, publicKeyOf(key));
      }
    } catch (e) {
      throw new Error(`SENDGRID_WEBHOOK_PUBLIC_KEY(S): not a public key (${(e as Error).message})`, {
        cause: e,
      });
    }
    this.twilioToken = config.TWILIO_AUTH_TOKEN;
    this.dsnToken = config.DSN_WEBHOOK_TOKEN;
    this.publicBase = config.DELIVERY_PUBLIC_BASE_URL.replace(/\/+$/, '');
  }

  checkSendGrid(
    workspaceId: string | undefined,
    rawBody: Buffer | undefined,
    signature: string | undefined,
    timestamp: string | undefined,
  ): void {
    if (!signature || !timestamp)
      throw new UnauthorizedException(
        'Missing X-Twilio-Email-Event-Webhook-Signature / X-Twilio-Email-Event-Webhook-Timestamp headers',
      );
    const key = (workspaceId && this.sendGridWorkspaceKeys.get(workspaceId)) || this.sendGridKey;
    if (!key) throw new ForbiddenException('No SendGrid verification key is configured');
    if (!rawBody || !verifySendGridSignature(key, rawBody, signature, timestamp))
      throw new ForbiddenException('Invalid SendGrid signature');
  }

  /** Twilio signs the public URL it was told to call: DELIVERY_PUBLIC_BASE_URL + the request path, not what a proxy forwarded. */
  checkTwilio(
    requestUrl: string,
    params: Record<string, string | string[]>,
    signature: string | undefined,
  ): void {
    const url = `${this.publicBase}${requestUrl}`;
    if (!signature) throw new UnauthorizedException('Missing X-Twilio-Signature header');
    if (!this.twilioToken) throw new ForbiddenException('No Twilio auth token is configured');
    if (!sameText(signature, twilioSignature(this.twilioToken, url, params)))
      throw new ForbiddenException('Invalid Twilio signature');
  }

  checkDsn(authorization: string | undefined): void {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new UnauthorizedException('Missing "Authorization: Bearer <DSN_WEBHOOK_TOKEN>" header');
    if (!this.dsnToken || !sameText(token, this.dsnToken)) throw new ForbiddenException('Invalid DSN token');
  }
}
