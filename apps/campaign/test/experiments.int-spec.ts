// A/B tests and control groups on the real local Postgres, Redis and NATS (own database, prefix and
// queue keys): each customer a campaign would send to is kept in its control group or sent one
// variant, drawn by weight, the same one every time, and the groups are counted.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCampaign, waitFor, type CampaignHarness } from './campaign-harness';

describe('campaign experiments', () => {
  const segmentId = randomUUID();
  const customers = Array.from({ length: 60 }, () => randomUUID());
  let h: CampaignHarness;
  let id: string;

  const variant = (name: string, weight: number) => ({
    name,
    weight,
    template: { subject: `Offer ${name}`, body: `Hello from ${name}` },
  });
  const experiment = (extra: object) => ({
    name: 'Card offer test',
    channel: 'email',
    status: 'active',
    trigger: { type: 'segment_entered', segmentId },
    ...extra,
  });
  const assignments = async () =>
    (await h.call('GET', `/v1/campaigns/${id}/assignments`)).json<{ groups: Record<string, number> }>()
      .groups;

  beforeAll(async () => {
    h = await startCampaign('campab');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses an experiment it cannot run, with the field path', async () => {
    const issues = async (payload: object) => {
      const res = await h.call('POST', '/v1/campaigns', experiment(payload));
      expect(res.statusCode).toBe(400);
      return res.json<{ issues: Array<{ path: string; reason: string }> }>().issues;
    };
    expect(await issues({})).toEqual([{ path: '/template', reason: 'give template or variants' }]);
    expect(
      await issues({ template: { subject: 'x', body: 'y' }, variants: [variant('A', 1), variant('B', 1)] }),
    ).toEqual([{ path: '/variants', reason: 'give either template or variants' }]);
    expect((await issues({ variants: [variant('A', 1), variant('A', 1)] }))[0]?.path).toBe(
      '/variants/1/name',
    );
    expect((await issues({ variants: [variant('A', 1), variant('holdout', 1)] }))[0]?.path).toBe(
      '/variants/1/name',
    );
    expect(
      await issues({
        variants: [variant('A', 1), { name: 'B', weight: 1, template: { body: 'no subject' } }],
      }),
    ).toEqual([{ path: '/variants/1/template/subject', reason: 'an email needs a subject' }]);
    expect((await issues({ variants: [variant('A', 1)] }))[0]?.path).toBe('/variants');
    expect((await issues({ variants: [variant('A', 0), variant('B', 1)] }))[0]?.path).toBe(
      '/variants/0/weight',
    );
    expect((await issues({ template: { subject: 'x', body: 'y' }, holdoutPercent: 60 }))[0]?.path).toBe(
      '/holdoutPercent',
    );
  });

  it('keeps a control group out and sends each other customer one variant, the same one again', async () => {
    const res = await h.call(
      'POST',
      '/v1/campaigns',
      experiment({ variants: [variant('A', 1), variant('B', 1)], holdoutPercent: 30 }),
    );
    expect(res.statusCode).toBe(201);
    id = res.json<{ id: string }>().id;
    for (const customerId of customers) await h.enter(segmentId, customerId);
    await waitFor('every customer assigned', async () => {
      const groups = await assignments();
      return groups.holdout! + groups.A! + groups.B! === customers.length;
    });
    const groups = await assignments();
    expect(Object.keys(groups).sort()).toEqual(['A', 'B', 'holdout']);
    // 60 draws: each group is present, and the control group is not everyone.
    expect(groups.holdout).toBeGreaterThan(5);
    expect(groups.holdout).toBeLessThan(35);
    expect(groups.A).toBeGreaterThan(5);
    expect(groups.B).toBeGreaterThan(5);

    await waitFor(
      'one email per customer outside the control group',
      () => h.requested.length === groups.A! + groups.B!,
    );
    const rows = await h.prisma.campaignAssignment.findMany({ where: { campaignId: id } });
    const groupOf = new Map(rows.map((r) => [r.customerId, r.assignedTo]));
    for (const request of h.requested) {
      const group = groupOf.get(request.customerId)!;
      expect(request.template).toEqual({ subject: `Offer ${group}`, body: `Hello from ${group}` });
      expect(request.variables).toMatchObject({ campaign: { id, variant: group } });
    }
    expect(h.requested.some((r) => groupOf.get(r.customerId) === 'holdout')).toBe(false);

    // Entering again (a later entry): the same variant, and the control group stays out.
    const again = customers.slice(0, 10);
    const before = h.requested.length;
    for (const customerId of again) await h.enter(segmentId, customerId);
    const sentAgain = again.filter((c) => groupOf.get(c) !== 'holdout');
    await waitFor('the repeated entries sent', () => h.requested.length === before + sentAgain.length);
    await sleep(300);
    expect(h.requested.length).toBe(before + sentAgain.length);
    for (const request of h.requested.slice(before))
      expect(request.template?.subject).toBe(`Offer ${groupOf.get(request.customerId)}`);
  });

  it("keeps an A/B test's templates, and counts a campaign with one template as default", async () => {
    const patched = await h.call('PATCH', `/v1/campaigns/${id}`, { template: { subject: 'x', body: 'y' } });
    expect(patched.statusCode).toBe(400);
    expect(patched.json()).toMatchObject({ issues: [{ path: '/template' }] });

    const single = await h.call(
      'POST',
      '/v1/campaigns',
      experiment({
        name: 'Plain',
        template: { subject: 'Hi', body: 'Hi' },
        trigger: { type: 'segment_entered', segmentId: randomUUID() },
      }),
    );
    const counted = await h.call('GET', `/v1/campaigns/${single.json<{ id: string }>().id}/assignments`);
    expect(counted.json()).toMatchObject({ holdoutPercent: 0, groups: { holdout: 0, default: 0 } });
    expect((await h.call('GET', `/v1/campaigns/${randomUUID()}/assignments`)).statusCode).toBe(404);
  });

  it("forgets an erased customer's group", async () => {
    const erased = customers[0]!;
    await h.erase(erased);
    await waitFor(
      'the group forgotten',
      async () => (await h.prisma.campaignAssignment.count({ where: { customerId: erased } })) === 0,
    );
    expect(await h.prisma.campaignAssignment.count({ where: { campaignId: id } })).toBe(customers.length - 1);
  });
});
