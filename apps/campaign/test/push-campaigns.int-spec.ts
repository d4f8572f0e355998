// Push campaigns on the real local Postgres, Redis and NATS (own database, prefix and queue keys):
// a send asked of delivery for each of the customer's devices of the campaign's kind (app
// installations or browsers), one frequency-cap count for all of them, by the consent for push.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCampaign, waitFor, type CampaignHarness } from './campaign-harness';

describe('push campaigns', () => {
  const segmentId = randomUUID();
  const twoPhones = randomUUID();
  const browserOnly = randomUUID();
  const pushWithdrawn = randomUUID();
  const subscription = JSON.stringify({
    endpoint: 'https://push.example.com/1',
    keys: { p256dh: 'p', auth: 'a' },
  });
  let h: CampaignHarness;

  const create = (payload: object) => h.call('POST', '/v1/campaigns', payload);
  const campaign = (extra: object) => ({
    name: 'Card offer',
    channel: 'push',
    status: 'active',
    trigger: { type: 'segment_entered', segmentId },
    template: { subject: 'New card', body: 'Hi {{ traits.firstName }}, your card is ready.' },
    ...extra,
  });
  const requestsOf = (customerId: string) => h.requested.filter((r) => r.customerId === customerId);

  beforeAll(async () => {
    h = await startCampaign('camppush', (id) => {
      const phones = [
        { kind: 'fcm' as const, recipient: 'fcm-phone-0123456789' },
        { kind: 'fcm' as const, recipient: 'fcm-tablet-0123456789' },
      ];
      if (id === twoPhones)
        return {
          pushTargets: [...phones, { kind: 'webpush', recipient: subscription }],
          traits: { firstName: 'Ada' },
        };
      if (id === browserOnly) return { pushTargets: [{ kind: 'webpush', recipient: subscription }] };
      if (id === pushWithdrawn)
        return {
          pushTargets: phones,
          consents: [{ purpose: 'marketing', channel: 'push', status: 'withdrawn' }],
        };
      return {};
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses what a push message cannot carry, and pushTo on another channel, with the field path', async () => {
    const issues = async (payload: object) => {
      const res = await create(payload);
      expect(res.statusCode).toBe(400);
      return res.json<{ issues: Array<{ path: string; reason: string }> }>().issues;
    };
    expect(await issues(campaign({ template: { body: 'Hi', html: '<p>Hi</p>' } }))).toEqual([
      { path: '/template/html', reason: 'a push message has no HTML body' },
    ]);
    expect((await issues(campaign({ template: { body: 'x'.repeat(1001) } })))[0]?.path).toBe(
      '/template/body',
    );
    expect(
      await issues(campaign({ channel: 'email', pushTo: 'app', template: { subject: 'Hi', body: 'Hi' } })),
    ).toEqual([{ path: '/pushTo', reason: 'only a push campaign has pushTo' }]);
    expect((await issues(campaign({ pushTo: 'watch' })))[0]?.path).toBe('/pushTo');
    expect(await h.prisma.campaign.count()).toBe(0);
  });

  it('asks delivery for a push to each device of the campaign’s kind, counted once by the frequency cap', async () => {
    const app = await create(campaign({}));
    expect(app.statusCode).toBe(201);
    expect(app.json()).toMatchObject({ channel: 'push', pushTo: 'app' });
    const browser = await create(
      campaign({ name: 'Web offer', pushTo: 'browser', template: { body: 'Offer' } }),
    );
    expect(browser.statusCode).toBe(201);
    const [appId, browserId] = [app.json<{ id: string }>().id, browser.json<{ id: string }>().id];

    await h.enter(segmentId, twoPhones);
    await waitFor('three pushes', () => requestsOf(twoPhones).length === 3);
    const byCampaign = (id: string) => requestsOf(twoPhones).filter((r) => r.campaignId === id);
    expect(
      byCampaign(appId)
        .map((r) => r.recipient)
        .sort(),
    ).toEqual(['fcm-phone-0123456789', 'fcm-tablet-0123456789']);
    expect(byCampaign(appId)[0]).toMatchObject({
      channel: 'push',
      template: { subject: 'New card', body: 'Hi {{ traits.firstName }}, your card is ready.' },
      variables: { traits: { firstName: 'Ada' } },
    });
    const keys = byCampaign(appId).map((r) => r.idempotencyKey);
    expect(new Set(keys).size).toBe(2);
    expect(keys.every((k) => k.startsWith(`${appId}:${twoPhones}:push:entered@`))).toBe(true);
    expect(byCampaign(browserId).map((r) => r.recipient)).toEqual([subscription]);
    // One send per campaign for the frequency cap, whatever the number of devices.
    expect(await h.prisma.campaignSend.count({ where: { customerId: twoPhones } })).toBe(2);

    // No device of the kind: no push of that campaign; withdrawn push consent: none at all.
    await h.enter(segmentId, browserOnly);
    await h.enter(segmentId, pushWithdrawn);
    await waitFor('the browser push', () => requestsOf(browserOnly).length === 1);
    await sleep(500);
    expect(requestsOf(browserOnly).map((r) => r.campaignId)).toEqual([browserId]);
    expect(requestsOf(pushWithdrawn)).toEqual([]);
  });
});
