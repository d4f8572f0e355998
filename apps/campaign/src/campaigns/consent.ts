import type { ConsentState } from '@cdp/contracts';

export type ConsentPolicy = 'opt_out' | 'opt_in';

/**
 * Whether a campaign may send to a customer through `channel`, by their marketing consent: the
 * consent for that channel if one is recorded, else the one for any channel. opt_out sends unless
 * it is withdrawn; opt_in sends only when it is granted and not expired.
 */
export function marketingAllowed(
  consents: readonly ConsentState[],
  channel: string,
  policy: ConsentPolicy,
  now = new Date(),
): boolean {
  const marketing = consents.filter((c) => c.purpose === 'marketing');
  const consent = marketing.find((c) => c.channel === channel) ?? marketing.find((c) => c.channel === 'any');
  if (consent?.status === 'withdrawn') return false;
  if (policy === 'opt_out') return true;
  return consent?.status === 'granted' && (!consent.expiresAt || new Date(consent.expiresAt) > now);
}
