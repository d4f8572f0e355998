// The workspace's frequency cap on the real local Postgres, Redis and NATS (own database, prefix
// and queue keys): campaign triggered by a segment entry asks delivery for at most `maxSends`
// marketing messages per customer within the period, transactional ones aside; the customer
// look-up is answered here by a raw NATS responder, as collection would.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { FrequencyCapsService } from '../src/frequency/frequency-caps.service';
import { startCampaign, waitFor, type CampaignHarness } from './campaign-harness';

describe('frequency cap on marketing sends', () => {
  const segmentId = randomUUID();
  let h: CampaignHarness;
  const kim = randomUUID();

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) =>
    h.call(method, url, payload);
  const enter = (customerId: string) => h.enter(segmentId, customerId);
  const requestsOf = (customerId: string) => h.requested.filter((r) => r.customerId === customerId);
  const campaign = async (name: string, consent?: string, trigger = 'segment_entered') => {
    const res = await call('POST', '/v1/campaigns', {
      name,
      channel: 'email',
      status: 'active',
      trigger: { type: trigger, segmentId },
      template: { subject: name, body: 'Hello' },
      ...(consent && { consent }),
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  const sendsOf = (customerId: string) => h.prisma.campaignSend.count({ where: { customerId } });

  beforeAll(async () => {
    h = await startCampaign('campfreq', () => ({ phone: '+41790000001' }));
  });

  afterAll(async () => {
    await h?.close();
  });

  it('is set, read and refused with the field paths', async () => {
    expect((await call('GET', '/v1/frequency-cap')).json()).toEqual({ frequencyCap: null, byChannel: [] });
    const bad = await call('PUT', '/v1/frequency-cap', { maxSends: 0, periodHours: 1000 });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .issues.map((i: { path: string }) => i.path)
        .sort(),
    ).toEqual(['/maxSends', '/periodHours']);
    const set = await call('PUT', '/v1/frequency-cap', { maxSends: 2, periodHours: 24 });
    expect(set.statusCode).toBe(200);
    expect(set.json().frequencyCap).toMatchObject({
      maxSends: 2,
      periodHours: 24,
      updatedBy: expect.stringMatching(/^api-key:/),
    });
    expect((await call('GET', '/v1/frequency-cap')).json().frequencyCap).toMatchObject({ maxSends: 2 });
  });

  it('asks for at most maxSends marketing messages per customer, transactional ones aside', async () => {
    const marketing = [await campaign('A'), await campaign('B'), await campaign('C')];
    const notice = await campaign('Card blocked', 'transactional');
    await enter(kim);
    await waitFor('the requests', () => requestsOf(kim).length >= 3);
    await sleep(500); // a fourth request would have come by now
    const asked = requestsOf(kim).map((r) => r.campaignId);
    expect(asked).toHaveLength(3);
    expect(asked).toContain(notice);
    expect(asked.filter((c) => c !== undefined && marketing.includes(c))).toHaveLength(2);
    // Only marketing sends are recorded (and counted).
    expect(await sendsOf(kim)).toBe(2);
    const metrics = (await h.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^campaign_sends_skipped_total\{[^}]*reason="frequency_cap"[^}]*\} 1$/m);

    // Another customer has their own allowance.
    const lee = randomUUID();
    await enter(lee);
    await waitFor('lee’s requests', () => requestsOf(lee).length >= 3);
  });

  it('admits sends of one customer arriving at once no further than the cap, and a redelivered one again', async () => {
    const caps = h.app.get(FrequencyCapsService);
    const park = randomUUID();
    const send = (i: number) => ({
      id: `c${i}:${park}:email:entered@x`,
      workspaceId: h.workspaceId,
      customerId: park,
      campaignId: `c${i}`,
      channel: 'email' as const,
    });
    const admitted = await Promise.all([0, 1, 2, 3, 4].map((i) => caps.admit(send(i))));
    expect(admitted.filter(Boolean)).toHaveLength(2);
    const first = admitted.indexOf(true);
    expect(await caps.admit(send(first))).toBe(true);
    expect(await sendsOf(park)).toBe(2);
    // Sends older than the period do not count; those older than any period are pruned.
    await h.prisma.campaignSend.updateMany({
      where: { customerId: park },
      data: { requestedAt: new Date(Date.now() - 25 * 3_600_000) },
    });
    expect(await caps.admit(send(9))).toBe(true);
    await h.prisma.campaignSend.updateMany({
      where: { customerId: park, campaignId: { not: 'c9' } },
      data: { requestedAt: new Date(Date.now() - 31 * 24 * 3_600_000) },
    });
    expect(await caps.prune()).toBe(2);
    expect(await sendsOf(park)).toBe(1);
  });

  it('forgets an erased customer’s sends, and sends freely once the cap is removed', async () => {
    expect(await sendsOf(kim)).toBe(2);
    await h.erase(kim);
    await waitFor('the sends forgotten', async () => (await sendsOf(kim)) === 0);

    expect((await call('DELETE', '/v1/frequency-cap')).json()).toEqual({ removed: true });
    const choi = randomUUID();
    await enter(choi);
    await waitFor('every campaign’s request', () => requestsOf(choi).length >= 4);
  });

  it('sends a campaign triggered by leaving the segment on the exit only', async () => {
    const goodbye = await campaign('Sorry to see you go', undefined, 'segment_exited');
    const leaving = randomUUID();
    await h.app.get(JetStreamPublisher).publish(
      Subjects.segmentExited,
      {
        workspaceId: h.workspaceId,
        segmentId,
        segmentName: 'Savers',
        customerId: leaving,
        at: new Date().toISOString(),
      },
      { msgId: randomUUID() },
    );
    await waitFor('the exit campaign’s request', () => requestsOf(leaving).length > 0);
    await sleep(500);
    expect(requestsOf(leaving).map((r) => r.campaignId)).toEqual([goodbye]);
    const joining = randomUUID();
    await enter(joining);
    await waitFor('the entry campaigns’ requests', () => requestsOf(joining).length >= 4);
    await sleep(500);
    expect(requestsOf(joining).map((r) => r.campaignId)).not.toContain(goodbye);
  });

  it('caps a channel on its own: one SMS a day, emails as before', async () => {
    const offers = randomUUID();
    const create = async (name: string, channel: 'email' | 'sms') => {
      const res = await call('POST', '/v1/campaigns', {
        name,
        channel,
        status: 'active',
        trigger: { type: 'segment_entered', segmentId: offers },
        template: channel === 'sms' ? { body: name } : { subject: name, body: name },
      });
      expect(res.statusCode).toBe(201);
    };
    await create('Rate alert', 'sms');
    await create('Card offer', 'sms');
    await create('Newsletter', 'email');
    const set = await call('PUT', '/v1/frequency-cap', { channel: 'sms', maxSends: 1, periodHours: 24 });
    expect(set.statusCode).toBe(200);
    expect(set.json().frequencyCap).toMatchObject({ channel: 'sms', maxSends: 1 });
    expect((await call('GET', '/v1/frequency-cap')).json()).toMatchObject({
      frequencyCap: null,
      byChannel: [{ channel: 'sms', maxSends: 1, periodHours: 24 }],
    });

    const lee = randomUUID();
    await h.enter(offers, lee);
    await waitFor('the requests', () => requestsOf(lee).length >= 2);
    await sleep(500); // a third request would have come by now
    expect(
      requestsOf(lee)
        .map((r) => r.channel)
        .sort(),
    ).toEqual(['email', 'sms']);

    const fax = await call('DELETE', '/v1/frequency-cap?channel=fax');
    expect(fax.statusCode).toBe(400);
    expect(fax.json().issues[0].path).toBe('/channel');
    expect((await call('DELETE', '/v1/frequency-cap?channel=sms')).json()).toEqual({ removed: true });
    const park = randomUUID();
    await h.enter(offers, park);
    await waitFor('every campaign’s request', () => requestsOf(park).length >= 3);
  });
});
