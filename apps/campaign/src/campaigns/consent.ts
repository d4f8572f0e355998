import type { CampaignChannel, ConsentState, ReplyOf, RpcSubjects } from '@cdp/contracts';

export type ConsentPolicy = 'opt_out' | 'opt_in' | 'transactional';

/**
 * Whether a campaign may send to a customer through `channel`, by their marketing consent: the
 * consent for that channel if one is recorded, else the one for any channel. opt_out sends unless
 * it is withdrawn; opt_in sends only when it is granted and not expired; a transactional message
 * is no marketing and needs none.
 */
export function marketingAllowed(
  consents: readonly ConsentState[],
  channel: string,
  policy: ConsentPolicy,
  now = new Date(),
): boolean {
  if (policy === 'transactional') return true;
  const marketing = consents.filter((c) => c.purpose === 'marketing');
  const consent = marketing.find((c) => c.channel === channel) ?? marketing.find((c) => c.channel === 'any');
  if (consent?.status === 'withdrawn') return false;
  if (policy === 'opt_out') return true;
  return consent?.status === 'granted' && (!consent.expiresAt || new Date(consent.expiresAt) > now);
}

type LookedUp = NonNullable<ReplyOf<typeof RpcSubjects.customerLookup>['customer']>;

/** Why a campaign leaves a customer out of a send. */
export type SkipReason = 'no_address' | 'restricted' | 'consent';

/** A phone number SMS providers take: E.164, `+` and 7 to 15 digits. */
const E164 = /^\+[1-9]\d{6,14}$/;

const NO_ADDRESS: Record<CampaignChannel, string> = {
  email: 'has no email address',
  sms: 'has no phone number in E.164 form (+ and country code)',
};

/** The customer's address on the channel, if they have a usable one. */
function addressOn(channel: CampaignChannel, customer: LookedUp): string | undefined {
  if (channel === 'email') return customer.email || undefined;
  // Stored as the customer gave it: "+41 79 123 45 67" and "+1 (415) 555-0100" are sendable too.
  const phone = customer.phone?.replace(/[\s().-]/g, '');
  return phone && E164.test(phone) ? phone : undefined;
}

/** The address a campaign's message on `channel` may go to, or why the campaign leaves the customer out. */
export function recipientOn(
  channel: CampaignChannel,
  customer: LookedUp | undefined,
  policy: ConsentPolicy,
  now = new Date(),
): { address: string } | { skipped: SkipReason } {
  const address = customer && addressOn(channel, customer);
  if (!address) return { skipped: 'no_address' };
  if (customer.restricted) return { skipped: 'restricted' };
  if (!marketingAllowed(customer.consents ?? [], channel, policy, now)) return { skipped: 'consent' };
  return { address };
}

export function explainSkip(channel: CampaignChannel, reason: SkipReason): string {
  if (reason === 'no_address') return NO_ADDRESS[channel];
  if (reason === 'restricted') return 'has processing restricted (suppressed)';
  return `has no marketing consent for ${channel === 'sms' ? 'SMS' : channel}`;
}
