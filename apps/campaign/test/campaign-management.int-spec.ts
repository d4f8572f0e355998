// Managing a campaign over REST on the real local Postgres, Redis and NATS (own database, prefix
// and queue keys): created as a draft, read back, activated, paused, edited and archived, each
// state deciding whether a trigger sends.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCampaign, waitFor, type CampaignHarness } from './campaign-harness';

describe('campaign management', () => {
  const segmentId = randomUUID();
  let h: CampaignHarness;
  let id: string;

  const requestsOf = (customerId: string) => h.requested.filter((r) => r.customerId === customerId);
  const patch = (payload: object, campaignId = id) => h.call('PATCH', `/v1/campaigns/${campaignId}`, payload);
  /** Enters a new customer into the segment; whether campaign asked for a send within `ms`. */
  const sendsToNewCustomer = async (ms = 700) => {
    const customerId = randomUUID();
    await h.enter(segmentId, customerId);
    await sleep(ms);
    return requestsOf(customerId);
  };

  beforeAll(async () => {
    h = await startCampaign('campmanage');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('creates a draft that sends nothing, and reads it back', async () => {
    const res = await h.call('POST', '/v1/campaigns', {
      name: 'Welcome',
      channel: 'email',
      trigger: { type: 'segment_entered', segmentId },
      template: { subject: 'Welcome', body: 'Hello' },
    });
    expect(res.statusCode).toBe(201);
    id = res.json<{ id: string }>().id;
    const read = await h.call('GET', `/v1/campaigns/${id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id, name: 'Welcome', status: 'draft', channel: 'email' });
    expect(await sendsToNewCustomer()).toEqual([]);
  });

  it('activates, edits and pauses it', async () => {
    expect((await patch({ status: 'active' })).json()).toMatchObject({ status: 'active' });
    const customerId = randomUUID();
    await h.enter(segmentId, customerId);
    await waitFor('the welcome email', () => requestsOf(customerId).length === 1);

    const edited = await patch({
      name: 'Welcome v2',
      template: { subject: 'Welcome!', body: 'Hello again' },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ name: 'Welcome v2', template: { subject: 'Welcome!' } });
    const next = randomUUID();
    await h.enter(segmentId, next);
    await waitFor('the edited email', () => requestsOf(next).length === 1);
    expect(requestsOf(next)[0]?.template).toEqual({ subject: 'Welcome!', body: 'Hello again' });

    expect((await patch({ status: 'paused' })).json()).toMatchObject({ status: 'paused' });
    expect(await sendsToNewCustomer()).toEqual([]);
  });

  it('sets and removes quiet hours', async () => {
    const quietHours = { start: '21:00', end: '08:00', timeZone: 'Asia/Seoul' };
    expect((await patch({ quietHours })).json()).toMatchObject({ schedule: { quietHours } });
    const removed = await patch({ quietHours: null });
    expect(removed.statusCode).toBe(200);
    expect(removed.json<{ schedule: unknown }>().schedule).toBeNull();
  });

  it('sends only within its active period', async () => {
    const hour = 3_600_000;
    const inAnHour = new Date(Date.now() + hour).toISOString();
    expect((await patch({ status: 'active', startsAt: inAnHour })).json()).toMatchObject({
      status: 'active',
      schedule: { startsAt: inAnHour },
    });
    expect(await sendsToNewCustomer()).toEqual([]);

    const started = await patch({ startsAt: null, endsAt: inAnHour });
    expect(started.json()).toMatchObject({ schedule: { endsAt: inAnHour } });
    const customerId = randomUUID();
    await h.enter(segmentId, customerId);
    await waitFor('the email within the period', () => requestsOf(customerId).length === 1);

    await patch({ endsAt: new Date(Date.now() - 1000).toISOString() });
    expect(await sendsToNewCustomer()).toEqual([]);
    const ended = await patch({ endsAt: null, status: 'paused' });
    expect(ended.json()).toMatchObject({ schedule: null, status: 'paused' });
  });

  it('refuses what it cannot apply, with the field path', async () => {
    const issues = async (payload: object) => {
      const res = await patch(payload);
      expect(res.statusCode).toBe(400);
      return res.json<{ issues: Array<{ path: string; reason: string }> }>().issues;
    };
    expect(await issues({ template: { body: 'no subject' } })).toEqual([
      { path: '/template/subject', reason: 'an email needs a subject' },
    ]);
    expect((await issues({ status: 'completed' }))[0]?.path).toBe('/status');
    expect((await issues({ channel: 'sms' }))[0]?.path).toBe('/channel');
    expect((await issues({}))[0]?.path).toBe('/');
    expect(await issues({ startsAt: '2026-12-02T00:00:00Z', endsAt: '2026-12-01T00:00:00Z' })).toEqual([
      { path: '/endsAt', reason: 'must be after startsAt (2026-12-02T00:00:00Z)' },
    ]);
    expect((await issues({ endsAt: 'tomorrow' }))[0]?.path).toBe('/endsAt');
    expect(
      (await issues({ quietHours: { start: '21:00', end: '08:00', timeZone: 'Nowhere/City' } }))[0]?.path,
    ).toBe('/quietHours/timeZone');
    const notUuid = await h.call('GET', '/v1/campaigns/not-a-uuid');
    expect(notUuid.statusCode).toBe(400);
    expect(notUuid.json()).toMatchObject({ issues: [{ path: '/id' }] });
  });

  it('answers 404 for a campaign it does not have, and 409 once archived', async () => {
    expect((await h.call('GET', `/v1/campaigns/${randomUUID()}`)).statusCode).toBe(404);
    expect((await patch({ status: 'active' }, randomUUID())).statusCode).toBe(404);
    expect((await patch({ status: 'archived' })).json()).toMatchObject({ status: 'archived' });
    expect((await patch({ status: 'active' })).statusCode).toBe(409);
    expect(await sendsToNewCustomer()).toEqual([]);
  });
});
