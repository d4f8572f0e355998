import { type ChannelAdapter, type OutboundMessage, type SendResult } from './channel-adapter';
import { providerCall, trimSlash } from './provider-http';

export interface SendGridOptions {
  apiKey: string;
  from: string;
  fromName?: string;
  /** Default https://api.sendgrid.com. */
  baseUrl?: string;
  timeoutMs: number;
}

/** Email through SendGrid's v3 mail-send API. */
export class SendGridEmailAdapter implements ChannelAdapter {
  readonly channel = 'email' as const;
  readonly provider = 'sendgrid';
  /** Events carry our id in custom_args, but the look-up by X-Message-Id covers those that do not. */
  readonly receiptsByProviderId = true;

  constructor(private readonly options: SendGridOptions) {}

  async send(message: OutboundMessage): Promise<SendResult> {
    const content = [{ type: 'text/plain', value: message.text }];
    if (message.html) content.push({ type: 'text/html', value: message.html });
    const body = {
      personalizations: [{ to: [{ email: message.recipient }] }],
      from: { email: this.options.from, ...(this.options.fromName && { name: this.options.fromName }) },
      subject: message.subject ?? '',
      content,
      // Comes back on every event webhook call, so receipts can be matched to our ledger row.
      custom_args: { cdp_message_id: message.messageId, cdp_workspace_id: message.workspaceId },
      ...(message.headers && { headers: message.headers }),
    };
    const response = await providerCall(
      this.provider,
      `${trimSlash(this.options.baseUrl ?? 'https://api.sendgrid.com')}/v3/mail/send`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      this.options.timeoutMs,
    );
    // Accepted either way; without the header, receipts still match through custom_args.
    const providerMessageId = response.headers.get('x-message-id') ?? message.messageId;
    return { provider: this.provider, providerMessageId, response: String(response.status) };
  }
}
