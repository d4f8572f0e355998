import { SendError, type ChannelAdapter, type OutboundMessage, type SendResult } from './channel-adapter';
import { providerCall, trimSlash } from './provider-http';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** Sender number (E.164). */
  from: string;
  statusCallbackUrl?: string;
  /** Default https://api.twilio.com. */
  baseUrl?: string;
  timeoutMs: number;
}

export const E164 = /^\+[1-9]\d{1,14}$/;

/** The query parameter of the status callback URL that names our ledger row. */
export const CALLBACK_MESSAGE_PARAM = 'cdpMessageId';

/**
 * The callback URL with our message id in its query. Twilio signs the URL it calls, query
 * included, so the id cannot be altered; and a callback that comes before the `sent` mark recorded
 * Twilio's SID (it can: Twilio answers, then the ledger commits) still finds its message. The base
 * is parsed once, not per message.
 */
export function statusCallbackUrls(base: string): (messageId: string) => string {
  const url = new URL(base);
  url.searchParams.delete(CALLBACK_MESSAGE_PARAM);
  url.hash = '';
  const prefix = `${url.toString()}${url.search ? '&' : '?'}${CALLBACK_MESSAGE_PARAM}=`;
  return (messageId) => prefix + encodeURIComponent(messageId);
}

/** SMS through Twilio's Programmable Messaging API (Messages resource). */
export class TwilioSmsAdapter implements ChannelAdapter {
  readonly channel = 'sms' as const;
  readonly provider = 'twilio';
  private readonly statusCallbackFor?: (messageId: string) => string;

  constructor(private readonly options: TwilioOptions) {
    if (options.statusCallbackUrl) this.statusCallbackFor = statusCallbackUrls(options.statusCallbackUrl);
  }

  /**
   * With our callback URL on every message (it overrides a Messaging Service's), each status
   * callback names our id; without it, callbacks come to a URL set at Twilio, naming only the SID.
   */
  get receiptsByProviderId(): boolean {
    return !this.statusCallbackFor;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    if (!E164.test(message.recipient))
      throw new SendError(`sms recipient "${message.recipient}" is not an E.164 number`, true);
    const form = new URLSearchParams({ To: message.recipient, From: this.options.from, Body: message.text });
    if (this.statusCallbackFor) form.set('StatusCallback', this.statusCallbackFor(message.messageId));
    const { accountSid, authToken } = this.options;
    const response = await providerCall(
      this.provider,
      `${trimSlash(this.options.baseUrl ?? 'https://api.twilio.com')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          // Twilio drops a repeat of the same token, so a retry after a lost answer sends once.
          'I-Twilio-Idempotency-Token': message.idempotencyKey,
        },
        body: form.toString(),
        idempotent: true,
      },
      this.options.timeoutMs,
    );
    const answer = (await response.json().catch(() => ({}))) as { sid?: unknown; status?: unknown };
    return {
      provider: this.provider,
      // A 2xx means Twilio took the message; never report it failed for a missing sid.
      providerMessageId: typeof answer.sid === 'string' ? answer.sid : message.messageId,
      response: `${response.status} ${typeof answer.status === 'string' ? answer.status : ''}`.trim(),
    };
  }
}
