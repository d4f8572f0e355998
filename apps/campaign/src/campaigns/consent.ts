import type { CampaignChannel, ConsentState, PushTarget, ReplyOf, RpcSubjects } from '@cdp/contracts';

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

/** Where a campaign sends: its channel, and for push which devices. */
export interface Destination {
  channel: CampaignChannel;
  pushTo?: PushTarget;
}

/** The push address kind (as the customer look-up names it) each push target sends to. */
const PUSH_KIND: Record<PushTarget, string> = { app: 'fcm', browser: 'webpush' };

function noAddress({ channel, pushTo = 'app' }: Destination): string {
  if (channel === 'email') return 'has no email address that has not bounced';
  if (channel === 'sms') return 'has no phone number in E.164 form (+ and country code)';
  return pushTo === 'app'
    ? 'has no app installation registered for push (FCM token)'
    : 'has no browser push subscription';
}

/** The customer's addresses for the destination: one email or phone, or each of their push devices of the kind. */
function addressesFor({ channel, pushTo = 'app' }: Destination, customer: LookedUp): string[] {
  if (channel === 'email') return customer.email && !customer.emailBounced ? [customer.email] : [];
  if (channel === 'push')
    return (customer.pushTargets ?? []).filter((t) => t.kind === PUSH_KIND[pushTo]).map((t) => t.recipient);
  // Stored as the customer gave it: "+41 79 123 45 67" and "+1 (415) 555-0100" are sendable too.
  const phone = customer.phone?.replace(/[\s().-]/g, '');
  return phone && E164.test(phone) ? [phone] : [];
}

/** The addresses a campaign's message may go to, or why the campaign leaves the customer out. */
export function recipientsFor(
  destination: Destination,
  customer: LookedUp | undefined,
  policy: ConsentPolicy,
  now = new Date(),
): { addresses: string[] } | { skipped: SkipReason } {
  const addresses = customer ? addressesFor(destination, customer) : [];
  if (!customer || !addresses.length) return { skipped: 'no_address' };
  if (customer.restricted) return { skipped: 'restricted' };
  if (!marketingAllowed(customer.consents ?? [], destination.channel, policy, now))
    return { skipped: 'consent' };
  return { addresses };
}

export function explainSkip(destination: Destination, reason: SkipReason): string {
  const { channel } = destination;
  if (reason === 'no_address') return noAddress(destination);
  if (reason === 'restricted') return 'has processing restricted (suppressed)';
  return `has no marketing consent for ${channel === 'sms' ? 'SMS' : channel}`;
}
