// Quiet hours on the real local Postgres, Redis and NATS (own database, prefix and queue keys): a
// trigger inside the campaign's quiet period is held (in the customer's time zone where known)
// and handled when the period ends, with the campaign's state checked again then.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCampaign, waitFor, type CampaignHarness } from './campaign-harness';

/** HH:MM in UTC, `minutes` from now. */
const utcClock = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString().slice(11, 16);

describe('quiet hours', () => {
  const segmentId = randomUUID();
  const inSeoulTime = randomUUID();
  const inKolkata = randomUUID();
  const unknownZone = randomUUID();
  const erased = randomUUID();
  // Now, in UTC, is inside this period; in Kolkata (UTC+5:30) it is not.
  const quietNow = { start: utcClock(-60), end: utcClock(60), timeZone: 'UTC' };
  let h: CampaignHarness;
  let campaignId: string;

  const create = (payload: object) => h.call('POST', '/v1/campaigns', payload);
  const campaign = (quietHours: object) => ({
    name: 'Evening offer',
    channel: 'email',
    status: 'active',
    trigger: { type: 'segment_entered', segmentId },
    template: { subject: 'Hello', body: 'Hello {{ traits.firstName }}' },
    quietHours,
  });
  const requestsOf = (customerId: string) => h.requested.filter((r) => r.customerId === customerId);
  const heldOf = (customerId: string) => h.prisma.heldTrigger.findMany({ where: { customerId } });

  beforeAll(async () => {
    h = await startCampaign(
      'campquiet',
      (id) => {
        if (id === inKolkata) return { traits: { timezone: 'Asia/Kolkata' } };
        if (id === unknownZone) return { traits: { timezone: 'Mars/Olympus' } };
        return {};
      },
      { QUIET_HOURS_RELEASE_EVERY_MS: '300' },
    );
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses quiet hours it cannot apply, with the field path', async () => {
    const issue = async (quietHours: object) => {
      const res = await create(campaign(quietHours));
      expect(res.statusCode).toBe(400);
      return res.json<{ issues: Array<{ path: string; reason: string }> }>().issues[0];
    };
    expect((await issue({ ...quietNow, start: '24:00' }))?.path).toBe('/quietHours/start');
    expect(await issue({ ...quietNow, timeZone: 'Mars/Olympus' })).toEqual({
      path: '/quietHours/timeZone',
      reason: 'not an IANA time zone: Mars/Olympus',
    });
    expect(await issue({ ...quietNow, end: quietNow.start })).toEqual({
      path: '/quietHours/end',
      reason: 'must differ from start',
    });
    expect((await issue({ start: '21:00', end: '08:00' }))?.path).toBe('/quietHours/timeZone');
  });

  it("holds a trigger inside the quiet hours, unless it is daytime in the customer's time zone", async () => {
    const res = await create(campaign(quietNow));
    expect(res.statusCode).toBe(201);
    campaignId = res.json<{ id: string }>().id;
    const at = new Date().toISOString();
    for (const customerId of [inSeoulTime, inKolkata, unknownZone, erased])
      await h.enter(segmentId, customerId, at);

    await waitFor('the Kolkata customer’s email', () => requestsOf(inKolkata).length === 1);
    await waitFor('three held triggers', async () => (await h.prisma.heldTrigger.count()) === 3);
    const [held] = await heldOf(inSeoulTime);
    expect(held).toMatchObject({
      id: `${campaignId}:${inSeoulTime}:email:entered@${at}`,
      campaignId,
      change: 'entered',
    });
    // Released at the end of the period: within the next hour, on a minute.
    const wait = held!.releaseAt.getTime() - Date.now();
    expect(wait).toBeGreaterThan(58 * 60_000);
    expect(wait).toBeLessThanOrEqual(60 * 60_000);
    expect(held!.releaseAt.getUTCSeconds()).toBe(0);
    // A time zone the runtime does not know falls back to the campaign's.
    expect(await heldOf(unknownZone)).toHaveLength(1);
    await sleep(500);
    expect(requestsOf(inSeoulTime)).toEqual([]);

    // The same trigger redelivered while held is held once.
    await h.enter(segmentId, inSeoulTime, at);
    await sleep(500);
    expect(await heldOf(inSeoulTime)).toHaveLength(1);
  });

  it('sends a held trigger once its quiet hours end, and forgets it', async () => {
    await h.prisma.heldTrigger.updateMany({
      where: { customerId: inSeoulTime },
      data: { releaseAt: new Date(Date.now() - 1000) },
    });
    await waitFor('the held email', () => requestsOf(inSeoulTime).length === 1);
    expect(requestsOf(inSeoulTime)[0]).toMatchObject({
      campaignId,
      channel: 'email',
      idempotencyKey: (await h.prisma.campaignSend.findFirst({ where: { customerId: inSeoulTime } }))?.id,
    });
    await waitFor('the held trigger deleted', async () => (await heldOf(inSeoulTime)).length === 0);
    await sleep(700);
    expect(requestsOf(inSeoulTime)).toHaveLength(1);
  });

  it('drops a held trigger whose campaign was paused meanwhile, and those of an erased customer', async () => {
    await h.prisma.campaign.update({ where: { id: campaignId }, data: { status: 'paused' } });
    await h.erase(erased);
    await waitFor('the erased customer’s trigger forgotten', async () => (await heldOf(erased)).length === 0);
    await h.prisma.heldTrigger.updateMany({
      where: { customerId: unknownZone },
      data: { releaseAt: new Date(Date.now() - 1000) },
    });
    await waitFor('the held trigger dropped', async () => (await h.prisma.heldTrigger.count()) === 0);
    expect(requestsOf(unknownZone)).toEqual([]);
    expect(requestsOf(erased)).toEqual([]);
  });
});
