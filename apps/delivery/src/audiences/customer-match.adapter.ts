import { createHash } from 'node:crypto';
import { SendError } from '../channels/channel-adapter';
import { providerCall, trimSlash } from '../channels/provider-http';
import { E164 } from '../channels/twilio-sms.adapter';

export const CUSTOMER_MATCH_SCHEMA = ['EMAIL_SHA256', 'PHONE_SHA256'] as const;

/** One audience member as the ad platform takes it: hex SHA-256 of the normalised values ('' if absent). */
export type HashedMember = [emailSha256: string, phoneSha256: string];

/** Trim and lower-case; for gmail.com/googlemail.com also drop dots and a "+tag" of the local part. */
export function normalizeEmail(email: string): string | undefined {
  const value = email.trim().toLowerCase();
  const at = value.lastIndexOf('@');
  if (at < 1 || at === value.length - 1 || /\s/.test(value)) return undefined;
  let local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (domain === 'gmail.com' || domain === 'googlemail.com')
    local = local.replace(/\+.*$/, '').replace(/\./g, '');
  return `${local}@${domain}`;
}

/** E.164 (`+` and digits) after removing spaces, dashes, dots and brackets; undefined when not E.164. */
export function normalizePhone(phone: string): string | undefined {
  const compact = phone.trim().replace(/[\s().-]/g, '');
  const withPlus = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return E164.test(withPlus) ? withPlus : undefined;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The member row for a customer, or undefined when it has neither a usable e-mail nor phone. */
export function hashedMember(contact: { email?: string; phone?: string }): HashedMember | undefined {
  const email = contact.email ? normalizeEmail(contact.email) : undefined;
  const phone = contact.phone ? normalizePhone(contact.phone) : undefined;
  if (!email && !phone) return undefined;
  return [email ? sha256Hex(email) : '', phone ? sha256Hex(phone) : ''];
}

export interface CustomerMatchOptions {
  /** Ad platform API base URL, e.g. https://graph.facebook.com/v19.0. */
  baseUrl: string;
  externalAudienceId: string;
  accessToken: string;
  timeoutMs: number;
}

/**
 * Customer-match audience on an ad platform (the Meta custom audience `users` edge shape, which
 * Google Customer Match mirrors): `POST` adds and `DELETE` removes
 * `{ payload: { schema: ['EMAIL_SHA256','PHONE_SHA256'], data: [[h(email), h(phone)], ...] } }`.
 * Only hashes leave the CDP.
 */
export class CustomerMatchAdapter {
  readonly provider = 'customer_match';

  constructor(private readonly options: CustomerMatchOptions) {}

  add(members: HashedMember[]): Promise<void> {
    return this.call('POST', members);
  }

  remove(members: HashedMember[]): Promise<void> {
    return this.call('DELETE', members);
  }

  private async call(method: 'POST' | 'DELETE', members: HashedMember[]): Promise<void> {
    if (members.length === 0) return;
    const response = await providerCall(
      this.provider,
      `${trimSlash(this.options.baseUrl)}/${encodeURIComponent(this.options.externalAudienceId)}/users`,
      {
        method,
        headers: { authorization: `Bearer ${this.options.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ payload: { schema: CUSTOMER_MATCH_SCHEMA, data: members } }),
      },
      this.options.timeoutMs,
    );
    const answer = (await response.json().catch(() => ({}))) as { num_received?: unknown };
    if (typeof answer.num_received === 'number' && answer.num_received !== members.length)
      throw new SendError(
        `${this.provider} received ${answer.num_received} of ${members.length} members`,
        false,
      );
  }
}
