import type { ConsentState } from '@cdp/contracts';
import { explainSkip, marketingAllowed, recipientsFor, type ConsentPolicy } from './consent';

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

describe('recipientsFor', () => {
  const customer = {
    id: 'c-1',
    customerCode: 'C0000000000000001',
    lifecycleStage: 'prospect' as const,
    email: 'ada@example.com',
    phone: '+41791234567',
    traits: {},
    consents: [],
  };
  const email = (c: Parameters<typeof recipientsFor>[1], policy: ConsentPolicy) =>
    recipientsFor({ channel: 'email' }, c, policy);
  const sms = (c: Parameters<typeof recipientsFor>[1], policy: ConsentPolicy) =>
    recipientsFor({ channel: 'sms' }, c, policy);

  it('sends to a customer with an address, unrestricted, whose consent allows it', () => {
    expect(email(customer, 'opt_out')).toEqual({ addresses: ['ada@example.com'] });
    expect(email({ ...customer, restricted: false }, 'opt_out')).toHaveProperty('addresses');
    expect(sms(customer, 'opt_out')).toEqual({ addresses: ['+41791234567'] });
  });

  it('leaves out a customer whose email bounced', () => {
    expect(email({ ...customer, emailBounced: true }, 'opt_out')).toEqual({ skipped: 'no_address' });
    expect(explainSkip({ channel: 'email' }, 'no_address')).toBe('has no email address that has not bounced');
    expect(sms({ ...customer, emailBounced: true }, 'opt_out')).toHaveProperty('addresses');
  });

  it('leaves out, in this order: no address, restricted processing, no marketing consent', () => {
    expect(email(undefined, 'opt_out')).toEqual({ skipped: 'no_address' });
    const { email: _none, ...noEmail } = customer;
    expect(email({ ...noEmail, restricted: true }, 'opt_out')).toEqual({ skipped: 'no_address' });
    // A suppressed customer is left out even with every consent granted.
    const granted = [consent('email', 'granted')];
    expect(email({ ...customer, restricted: true, consents: granted }, 'opt_in')).toEqual({
      skipped: 'restricted',
    });
    expect(email(customer, 'opt_in')).toEqual({ skipped: 'consent' });
    expect(email({ ...customer, consents: granted }, 'opt_in')).toHaveProperty('addresses');
  });

  it('sends an SMS only to an E.164 number, by the consent for SMS (else for any channel)', () => {
    expect(sms({ ...customer, phone: '0791234567' }, 'opt_out')).toEqual({
      skipped: 'no_address',
    });
    expect(sms({ ...customer, phone: '+1 (415) 555-0100' }, 'opt_out')).toEqual({
      addresses: ['+14155550100'],
    });
    const { phone: _none, ...noPhone } = customer;
    expect(sms(noPhone, 'opt_out')).toEqual({ skipped: 'no_address' });
    const smsWithdrawn = { ...customer, consents: [consent('sms', 'withdrawn'), consent('any', 'granted')] };
    expect(sms(smsWithdrawn, 'opt_out')).toEqual({ skipped: 'consent' });
    expect(email(smsWithdrawn, 'opt_in')).toHaveProperty('addresses');
    expect(explainSkip({ channel: 'sms' }, 'no_address')).toContain('E.164');
    expect(explainSkip({ channel: 'sms' }, 'consent')).toBe('has no marketing consent for SMS');
  });

  it('sends a transactional message whatever the marketing consent, but not to a restricted customer', () => {
    const withdrawn = { ...customer, consents: [consent('any', 'withdrawn')] };
    expect(email(withdrawn, 'opt_out')).toEqual({ skipped: 'consent' });
    expect(email(withdrawn, 'transactional')).toEqual({ addresses: ['ada@example.com'] });
    expect(email({ ...withdrawn, restricted: true }, 'transactional')).toEqual({
      skipped: 'restricted',
    });
  });
});

describe('push recipients', () => {
  const devices = {
    id: 'c-2',
    customerCode: 'C0000000000000002',
    lifecycleStage: 'prospect' as const,
    traits: {},
    consents: [],
    pushTargets: [
      { kind: 'fcm' as const, recipient: 'fcm-token-phone' },
      { kind: 'fcm' as const, recipient: 'fcm-token-tablet' },
      { kind: 'apns' as const, recipient: 'apns-token' },
      { kind: 'webpush' as const, recipient: '{"endpoint":"https://push.example/1"}' },
    ],
  };

  it('sends to each device of the campaign’s kind, by the consent for push', () => {
    expect(recipientsFor({ channel: 'push', pushTo: 'app' }, devices, 'opt_out')).toEqual({
      addresses: ['fcm-token-phone', 'fcm-token-tablet'],
    });
    expect(recipientsFor({ channel: 'push', pushTo: 'browser' }, devices, 'opt_out')).toEqual({
      addresses: ['{"endpoint":"https://push.example/1"}'],
    });
    const pushWithdrawn = { ...devices, consents: [consent('push', 'withdrawn')] };
    expect(recipientsFor({ channel: 'push', pushTo: 'app' }, pushWithdrawn, 'opt_out')).toEqual({
      skipped: 'consent',
    });
    const { pushTargets: _none, ...noDevices } = devices;
    expect(recipientsFor({ channel: 'push', pushTo: 'browser' }, noDevices, 'opt_out')).toEqual({
      skipped: 'no_address',
    });
    expect(explainSkip({ channel: 'push', pushTo: 'browser' }, 'no_address')).toBe(
      'has no browser push subscription',
    );
  });
});
