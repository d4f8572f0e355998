import type { Agent } from 'node:https';
import { sendNotification, WebPushError, type PushSubscription } from 'web-push';
import {
  RecipientGoneError,
  SendError,
  type ChannelAdapter,
  type OutboundMessage,
  type SendResult,
} from './channel-adapter';
import { httpFailure } from './provider-http';

export interface WebPushOptions {
  vapidSubject: string;
  vapidPublicKey: string;
  vapidPrivateKey: string;
  /** Seconds the push service keeps an undelivered message (default 4 weeks). */
  ttlSeconds?: number;
  timeoutMs: number;
  /** TLS agent for push services (e.g. one trusting a private CA). */
  agent?: Agent;
}

function subscriptionOf(recipient: string): PushSubscription {
  let parsed: unknown;
  try {
    parsed = JSON.parse(recipient);
  } catch {
    throw new SendError('push recipient is not a subscription JSON {endpoint, keys: {p256dh, auth}}', true);
  }
  const s = parsed as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
  if (
    typeof s.endpoint !== 'string' ||
    !s.endpoint.startsWith('https://') ||
    typeof s.keys?.p256dh !== 'string' ||
    typeof s.keys.auth !== 'string'
  )
    throw new SendError('push subscription needs an https endpoint and keys.p256dh, keys.auth', true);
  return { endpoint: s.endpoint, keys: { p256dh: s.keys.p256dh, auth: s.keys.auth } };
}

/**
 * Web Push (RFC 8030): the payload is encrypted for the subscription (RFC 8291, aes128gcm) and the
 * request signed with the workspace's VAPID key (RFC 8292) by the `web-push` library.
 */
export class WebPushAdapter implements ChannelAdapter {
  readonly channel = 'push' as const;
  readonly provider = 'webpush';
  /** A push service sends no receipts to us. */
  readonly receiptsByProviderId = false;

  constructor(private readonly options: WebPushOptions) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const subscription = subscriptionOf(message.recipient);
    const payload = JSON.stringify({
      messageId: message.messageId,
      title: message.subject ?? '',
      body: message.text,
      ...(message.data && { data: message.data }),
    });
    try {
      const result = await sendNotification(subscription, payload, {
        vapidDetails: {
          subject: this.options.vapidSubject,
          publicKey: this.options.vapidPublicKey,
          privateKey: this.options.vapidPrivateKey,
        },
        contentEncoding: 'aes128gcm',
        TTL: this.options.ttlSeconds ?? 2_419_200,
        timeout: this.options.timeoutMs,
        ...(this.options.agent && { agent: this.options.agent }),
      });
      // The push service names the stored message by its Location (RFC 8030 §5).
      const location = result.headers.location ?? result.headers.Location;
      return {
        provider: this.provider,
        providerMessageId: typeof location === 'string' && location ? location : message.messageId,
        response: String(result.statusCode),
      };
    } catch (e) {
      if (e instanceof WebPushError) {
        // 404/410: the browser unsubscribed; the subscription will never work again.
        if (e.statusCode === 404 || e.statusCode === 410)
          throw new RecipientGoneError(`push subscription gone (${e.statusCode})`);
        throw httpFailure(this.provider, e.statusCode, e.body, headerOf(e.headers, 'retry-after'));
      }
      if (e instanceof SendError) throw e;
      throw new SendError(`push service unreachable: ${(e as Error).message}`, false);
    }
  }
}

function headerOf(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === 'string' ? value : undefined;
}
