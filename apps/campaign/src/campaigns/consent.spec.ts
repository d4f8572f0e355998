import type { ConsentState } from '@cdp/contracts';
import { marketingAllowed } from './consent';

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
