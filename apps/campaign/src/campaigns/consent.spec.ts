import type { ConsentState } from '@cdp/contracts';
import { emailRecipient, marketingAllowed } from './consent';

const consent = (
  channel: ConsentState['channel'],
  status: ConsentState['status'],
  extra: Partial<ConsentState> = {},
): ConsentState => ({ purpose: 'marketing', channel, status, ...extra });

describe('marketingAllowed', () => {
  const now = new Date('2026-12-06T00:00:00Z');

  it('opt_out sends unless marketing consent for the channel, else for any channel, was withdrawn', () => {
    expect(marketingAllowed([], 'email', 'opt_out', now)).toBe(true);
    expect(marketingAllowed([consent('email', 'withdrawn')], 'email', 'opt_out', now)).toBe(false);
    expect(marketingAllowed([consent('any', 'withdrawn')], 'email', 'opt_out', now)).toBe(false);
    expect(marketingAllowed([consent('sms', 'withdrawn')], 'email', 'opt_out', now)).toBe(true);
    // The channel's own consent wins over the one for any channel.
    expect(
      marketingAllowed([consent('any', 'withdrawn'), consent('email', 'granted')], 'email', 'opt_out', now),
    ).toBe(true);
    // Other purposes do not count.
    expect(
      marketingAllowed(
        [{ purpose: 'profiling', channel: 'email', status: 'withdrawn' }],
        'email',
        'opt_out',
        now,
      ),
    ).toBe(true);
  });

  it('opt_in sends only where marketing consent is granted and not expired', () => {
    expect(marketingAllowed([], 'email', 'opt_in', now)).toBe(false);
    expect(marketingAllowed([consent('email', 'granted')], 'email', 'opt_in', now)).toBe(true);
    expect(marketingAllowed([consent('any', 'granted')], 'email', 'opt_in', now)).toBe(true);
    expect(marketingAllowed([consent('sms', 'granted')], 'email', 'opt_in', now)).toBe(false);
    expect(
      marketingAllowed(
        [consent('email', 'granted', { expiresAt: '2026-12-05T00:00:00Z' })],
        'email',
        'opt_in',
        now,
      ),
    ).toBe(false);
    expect(
      marketingAllowed(
        [consent('email', 'granted', { expiresAt: '2027-01-01T00:00:00Z' })],
        'email',
        'opt_in',
        now,
      ),
    ).toBe(true);
    expect(
      marketingAllowed([consent('any', 'granted'), consent('email', 'withdrawn')], 'email', 'opt_in', now),
    ).toBe(false);
  });
});

describe('emailRecipient', () => {
  const customer = {
    id: 'c-1',
    customerCode: 'C0000000000000001',
    lifecycleStage: 'prospect' as const,
    email: 'ada@example.com',
    traits: {},
    consents: [],
  };

  it('sends to a customer with an address, unrestricted, whose consent allows it', () => {
    expect(emailRecipient(customer, 'opt_out')).toEqual({ recipient: customer });
    expect(emailRecipient({ ...customer, restricted: false }, 'opt_out')).toHaveProperty('recipient');
  });

  it('leaves out, in this order: no address, restricted processing, no marketing consent', () => {
    expect(emailRecipient(undefined, 'opt_out')).toEqual({ skipped: 'no_address' });
    const { email: _none, ...noEmail } = customer;
    expect(emailRecipient({ ...noEmail, restricted: true }, 'opt_out')).toEqual({ skipped: 'no_address' });
    // A suppressed customer is left out even with every consent granted.
    const granted = [consent('email', 'granted')];
    expect(emailRecipient({ ...customer, restricted: true, consents: granted }, 'opt_in')).toEqual({
      skipped: 'restricted',
    });
    expect(emailRecipient(customer, 'opt_in')).toEqual({ skipped: 'consent' });
    expect(emailRecipient({ ...customer, consents: granted }, 'opt_in')).toHaveProperty('recipient');
  });

  it('sends a transactional message whatever the marketing consent, but not to a restricted customer', () => {
    const withdrawn = { ...customer, consents: [consent('any', 'withdrawn')] };
    expect(emailRecipient(withdrawn, 'opt_out')).toEqual({ skipped: 'consent' });
    expect(emailRecipient(withdrawn, 'transactional')).toEqual({ recipient: withdrawn });
    expect(emailRecipient({ ...withdrawn, restricted: true }, 'transactional')).toEqual({
      skipped: 'restricted',
    });
  });
});
