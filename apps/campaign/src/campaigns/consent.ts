import type { ConsentState, ReplyOf, RpcSubjects } from '@cdp/contracts';

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

/** Why a campaign leaves a customer out of an email send. */
export type SkipReason = 'no_address' | 'restricted' | 'consent';

const SKIP_EXPLANATIONS: Record<SkipReason, string> = {
  no_address: 'has no email address',
  restricted: 'has processing restricted (suppressed)',
  consent: 'has no marketing consent for email',
};

/** The customer an email may go to, or why the campaign leaves them out. */
export function emailRecipient(
  customer: LookedUp | undefined,
  policy: ConsentPolicy,
  now = new Date(),
): { recipient: LookedUp & { email: string } } | { skipped: SkipReason } {
  if (!customer?.email) return { skipped: 'no_address' };
  if (customer.restricted) return { skipped: 'restricted' };
  if (!marketingAllowed(customer.consents ?? [], 'email', policy, now)) return { skipped: 'consent' };
  return { recipient: { ...customer, email: customer.email } };
}

export const explainSkip = (reason: SkipReason) => SKIP_EXPLANATIONS[reason];
