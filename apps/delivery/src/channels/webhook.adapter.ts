import { createHmac } from 'node:crypto';
import type { ChannelAdapter, OutboundMessage, SendResult } from './channel-adapter';
import { providerCall } from './provider-http';

export interface WebhookOptions {
  url: string;
  signingSecret: string;
  timeoutMs: number;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the timestamp lets receivers refuse replays. */
export function webhookSignature(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}

/** Signed JSON POST to the workspace's endpoint (Stripe-style signature header). */
export class WebhookAdapter implements ChannelAdapter {
  readonly channel = 'webhook' as const;
  readonly provider = 'webhook';
  /** The receiving system sends no receipts to us. */
  readonly receiptsByProviderId = false;

  constructor(private readonly options: WebhookOptions) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    // Always the workspace's configured endpoint: a URL inside a message must not redirect signed posts.
    const body = JSON.stringify({
      id: message.messageId,
      recipient: message.recipient,
      workspaceId: message.workspaceId,
      customerId: message.customerId,
      ...(message.subject !== undefined && { subject: message.subject }),
      text: message.text,
      ...(message.data && { data: message.data }),
    });
    const response = await providerCall(
      this.provider,
      this.options.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'X-CDP-Signature': webhookSignature(
            this.options.signingSecret,
            body,
            Math.floor(Date.now() / 1000),
          ),
          'Idempotency-Key': message.idempotencyKey,
          ...message.headers,
        },
        body,
        idempotent: true,
      },
      this.options.timeoutMs,
    );
    return {
      provider: this.provider,
      providerMessageId: message.messageId,
      response: String(response.status),
    };
  }
}
