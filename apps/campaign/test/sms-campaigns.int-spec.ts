// Campaigns on each channel on the real local Postgres, Redis and NATS (own database, prefix and
// queue keys): a template checked per channel with field paths, and a send asked of delivery at
// the customer's address on the campaign's channel (email, or an E.164 phone for SMS), by the
// marketing consent for that channel.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsentState } from '@cdp/contracts';
import { startCampaign, waitFor, type CampaignHarness } from './campaign-harness';

describe('SMS campaigns', () => {
  const segmentId = randomUUID();
  const withPhone = randomUUID();
  const localNumber = randomUUID();
  const smsWithdrawn = randomUUID();
  const withdrawn = (channel: ConsentState['channel']): ConsentState => ({
    purpose: 'marketing',
    channel,
    status: 'withdrawn',
  });
  let h: CampaignHarness;

  const create = (payload: object) => h.call('POST', '/v1/campaigns', payload);
  const campaign = (channel: string, template: object) => ({
    name: `${channel} offer`,
    channel,
    status: 'active',
    trigger: { type: 'segment_entered', segmentId },
    template,
  });
  const requestsOf = (customerId: string) => h.requested.filter((r) => r.customerId === customerId);

  beforeAll(async () => {
    h = await startCampaign('campsms', (id) => {
      if (id === withPhone) return { phone: '+41791234567', traits: { firstName: 'Ada' } };
      if (id === localNumber) return { phone: '0791234567' };
      if (id === smsWithdrawn) return { phone: '+41790000000', consents: [withdrawn('sms')] };
      return {};
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses a template that does not fit its channel, with the field path', async () => {
    const issues = async (payload: object) => {
      const res = await create(payload);
      expect(res.statusCode).toBe(400);
      return res.json<{ issues: Array<{ path: string; reason: string }> }>().issues;
    };
    expect(await issues(campaign('email', { body: 'Hello' }))).toEqual([
      { path: '/template/subject', reason: 'an email needs a subject' },
    ]);
    expect(await issues(campaign('sms', { subject: 'Hi', body: 'Hello' }))).toEqual([
      { path: '/template/subject', reason: 'an SMS has no subject' },
    ]);
    expect((await issues(campaign('sms', { body: 'Hello', html: '<p>Hello</p>' })))[0]?.path).toBe(
      '/template/html',
    );
    expect((await issues(campaign('sms', { body: 'x'.repeat(1601) })))[0]).toEqual({
      path: '/template/body',
      reason: 'an SMS body is at most 1600 characters (10 segments)',
    });
    const fax = await issues(campaign('fax', { body: 'Hello' }));
    expect(fax[0]).toMatchObject({ path: '/channel' });
    expect(fax[0]!.reason).toContain('"sms"');
    expect(await h.prisma.campaign.count()).toBe(0);
  });

  it('asks delivery for an SMS to the customer’s E.164 number, by the consent for SMS', async () => {
    const sms = await create(
      campaign('sms', { body: 'Hi {{ traits.firstName }}, your savings offer is ready.' }),
    );
    expect(sms.statusCode).toBe(201);
    const email = await create(
      campaign('email', { subject: 'Savings', body: 'Your savings offer is ready.' }),
    );
    expect(email.statusCode).toBe(201);
    const smsId = sms.json<{ id: string }>().id;
    const emailId = email.json<{ id: string }>().id;

    await h.enter(segmentId, withPhone);
    await waitFor('both requests', () => requestsOf(withPhone).length === 2);
    const text = requestsOf(withPhone).find((r) => r.channel === 'sms')!;
    expect(text).toMatchObject({
      campaignId: smsId,
      recipient: '+41791234567',
      template: { body: 'Hi {{ traits.firstName }}, your savings offer is ready.' },
      variables: { traits: { firstName: 'Ada' } },
    });
    expect(text.idempotencyKey).toContain(`${smsId}:${withPhone}:sms:entered@`);
    expect(requestsOf(withPhone).find((r) => r.channel === 'email')).toMatchObject({ campaignId: emailId });

    // A number not in E.164 form gets no SMS (the email still goes); nor does one whose SMS consent is withdrawn.
    await h.enter(segmentId, localNumber);
    await h.enter(segmentId, smsWithdrawn);
    await waitFor('the emails', () => requestsOf(localNumber).length + requestsOf(smsWithdrawn).length === 2);
    await sleep(500); // an SMS request would have come by now
    for (const id of [localNumber, smsWithdrawn])
      expect(requestsOf(id).map((r) => r.channel)).toEqual(['email']);
    const metrics = (await h.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^campaign_sends_skipped_total\{[^}]*reason="no_address"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^campaign_sends_skipped_total\{[^}]*reason="consent"[^}]*\} 1$/m);
  });
});
