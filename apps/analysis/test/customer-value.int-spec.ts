// The customer_value score on the real local Postgres, NATS and Redis (own database and prefix):
// each stored event counts once in the customer's decayed activity, merges add activity up and
// unmerges take it apart, changes are announced on cdp.score.updated, score segments follow
// them, and erasure forgets the activity.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects } from '@cdp/contracts';
import { ScoresService } from '../src/scores/scores.service';
import { SegmentsService } from '../src/segments/segments.service';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

// Every event at one time, so the decayed sums stay whole numbers (values are read as of now, seconds later).
const AT = new Date().toISOString();

describe('customer_value score', () => {
  let h: AnalysisHarness;
  let nextEventId = 1000;

  /** A stored event of `customerId`; `eventId` again is a redelivery of that event. */
  const event = (customerId: string, properties: Record<string, unknown> = {}, eventId = ++nextEventId) =>
    h.ingested({ customerId, eventId, name: 'Order Completed', properties, occurredAt: AT });
  const activity = (customerId: string) => h.prisma.customerActivity.findUnique({ where: { customerId } });
  const score = (customerId: string) =>
    h.prisma.score.findFirst({ where: { customerId, model: 'customer_value' } });
  const eventsCounted = (customerId: string, n: number) =>
    waitFor(`${n} events counted`, async () => (await activity(customerId))?.events === n);

  beforeAll(async () => {
    h = await startAnalysis('anscore');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('counts each stored event once, scores frequency and revenue, and announces the change', async () => {
    const [kim] = await h.customers(1);
    await event(kim!, { revenue: 500, currency: 'EUR' }, 1);
    // Counted before the next one comes: events of one customer handled in one batch are announced once.
    await eventsCounted(kim!, 1);
    await event(kim!, {}, 2);
    await eventsCounted(kim!, 2);
    // frequency 2 / (2 + 10), monetary 500 / (500 + 1000): 0.4 x 0.1667 + 0.6 x 0.3333
    await waitFor('the score', async () => (await score(kim!))?.value === 0.267);
    expect((await score(kim!))!.explanation).toMatchObject({ events: 2, revenue: 500, halfLifeDays: 30 });

    await event(kim!, { revenue: 500 }, 1); // a redelivery of the first event
    await event(kim!, { value: 'not a number' }, 3);
    await eventsCounted(kim!, 3);
    await sleep(300);
    expect(await activity(kim!)).toMatchObject({ events: 3, revenue: 500 });
    // One announcement per change (in the order the two first events were handled), none for the redelivery.
    const announced = await waitFor('the announcements', async () => {
      const mine = h.scoreUpdates.filter((u) => u.customerId === kim);
      return mine.length === 3 && mine;
    });
    await sleep(300);
    expect(h.scoreUpdates.filter((u) => u.customerId === kim)).toHaveLength(3);
    expect(announced.slice(1).map((u) => [u.value, u.previousValue])).toEqual([
      [0.267, announced[0]!.value],
      [0.292, 0.267],
    ]);
    expect(announced[0]!.previousValue).toBeUndefined();
    expect(announced[0]).toMatchObject({ model: 'customer_value', modelVersion: 'rfm-decay-2' });
  });

  it('takes a burst of events in batches: each counted once, one entry per customer, scores as announced', async () => {
    const made = await h.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: { authorization: `Bearer ${h.adminKey}` },
      payload: { name: 'Buyers', definition: { type: 'event', name: 'Order Completed' } },
    });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    const people = await h.customers(40);
    const perPerson = 15;
    const sends: Promise<unknown>[] = [];
    for (let round = 0; round < perPerson; round++)
      for (const person of people) {
        const eventId = ++nextEventId;
        sends.push(event(person, {}, eventId));
        if (round % 5 === 0) sends.push(event(person, {}, eventId)); // a redelivery
      }
    await Promise.all(sends);
    for (const person of people) await eventsCounted(person, perPerson);
    await waitFor(
      'every customer a member',
      async () => (await h.current(segmentId)).length === people.length,
    );
    await sleep(300);
    // Many events of one customer matched at once (in one batch, or in two at the same time): one
    // entry stored (an entry published twice at once has one Nats-Msg-Id).
    const entries = (await h.stored(Subjects.segmentEntered)).filter((e) => e.segmentId === segmentId);
    for (const person of people) expect(entries.filter((e) => e.customerId === person)).toHaveLength(1);
    for (const person of people) {
      const last = h.scoreUpdates.filter((u) => u.customerId === person).at(-1);
      expect(last?.value).toBe((await score(person))!.value);
    }
  });

  it('handles a batch holding an event it cannot take message by message: only that one fails', async () => {
    const segmentId = (await h.prisma.segment.findFirstOrThrow({ where: { name: 'Buyers' } })).id;
    const people = await h.customers(30);
    // No such customer: its activity row breaks the foreign key, and with it the batch's transaction.
    const ghost = randomUUID();
    await Promise.all([...people.slice(0, 15), ghost, ...people.slice(15)].map((id) => event(id)));
    await waitFor('the others members', async () => {
      const current = await h.current(segmentId);
      return people.every((p) => current.includes(p));
    });
    expect(await h.current(segmentId)).not.toContain(ghost);
    for (const person of people) expect((await activity(person))?.events).toBe(1);
  });

  it('adds a merged customer’s activity into the survivor’s and takes it back on unmerge', async () => {
    const [branch, web] = await h.customers(2);
    await event(branch!, { revenue: 1000 });
    await event(web!, {});
    await event(web!, {});
    await eventsCounted(branch!, 1);
    await eventsCounted(web!, 2);
    await waitFor('web scored', async () => (await score(web!)) !== null);

    await h.publish(Subjects.identityMerged, {
      workspaceId: h.workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'shared identifier email',
      mergeId: 'mrg-score',
      mergedAt: AT,
    });
    await eventsCounted(branch!, 3);
    expect(await activity(web!)).toMatchObject({ endedByMerge: 'mrg-score', mergedInto: branch, events: 2 });
    expect(await score(web!)).toBeNull();

    // An event stored under the merged customer before the merge, handled after it.
    await event(web!, { revenue: 100 });
    await eventsCounted(branch!, 4);
    expect(await activity(web!)).toMatchObject({ events: 3, revenue: 100 });

    await h.publish(Subjects.identityUnmerged, {
      workspaceId: h.workspaceId,
      mergeId: 'mrg-score',
      restoredIds: [web!],
      survivorId: branch!,
      unmergedAt: AT,
    });
    await eventsCounted(branch!, 1);
    expect(await activity(branch!)).toMatchObject({ revenue: 1000 });
    expect(await activity(web!)).toMatchObject({ events: 3, revenue: 100, endedByMerge: null });
    await waitFor('web scored again', async () => (await score(web!)) !== null);
  });

  it('score segments: a customer enters at the threshold and exits when the score falls below it', async () => {
    const made = await h.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: { authorization: `Bearer ${h.adminKey}` },
      payload: { name: 'High value', definition: { type: 'score', model: 'customer_value', gte: 0.3 } },
    });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    const [lee] = await h.customers(1);
    await event(lee!, { revenue: 200 });
    await eventsCounted(lee!, 1);
    await sleep(300);
    expect(await h.current(segmentId)).not.toContain(lee); // 0.4 x 1/11 + 0.6 x 200/1200 = 0.136

    await event(lee!, { revenue: 2000 });
    await waitFor('lee a member', async () => (await h.current(segmentId)).includes(lee!));
    // A later computation (another replica, a re-scoring) puts the score below the threshold.
    await h.publish(Subjects.scoreUpdated, {
      workspaceId: h.workspaceId,
      customerId: lee!,
      model: 'customer_value',
      modelVersion: 'rfm-decay-2',
      value: 0.1,
      computedAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await waitFor('lee left', async () => !(await h.current(segmentId)).includes(lee!));
    await waitFor('the exit announced', async () => h.exited.includes(lee!));
  });

  it('re-scores a customer not scored for a day as of now: one who stopped coming drifts out of the segment', async () => {
    const segmentId = (await h.prisma.segment.findFirstOrThrow({ where: { name: 'High value' } })).id;
    const [oh] = await h.customers(1);
    await event(oh!, { revenue: 2000 });
    await waitFor('oh a member', async () => (await h.current(segmentId)).includes(oh!));
    expect((await score(oh!))!.value).toBe(0.436); // 0.4 x 1/11 + 0.6 x 2000/3000
    // Sixty days pass without an event (two half-lives), the last computation a day and more ago.
    await h.prisma.customerActivity.update({
      where: { customerId: oh! },
      data: { asOf: new Date(Date.now() - 60 * 86_400_000) },
    });
    await h.prisma.score.updateMany({
      where: { customerId: oh! },
      data: { computedAt: new Date(Date.now() - 25 * 3_600_000) },
    });
    expect(await h.app.get(ScoresService).rescoreStale()).toBe(1);
    expect((await score(oh!))!.value).toBe(0.21); // 0.4 x 0.25/10.25 + 0.6 x 500/1500
    await waitFor('oh left', async () => !(await h.current(segmentId)).includes(oh!));
    expect(h.scoreUpdates.filter((u) => u.customerId === oh).map((u) => u.value)).toEqual([0.436, 0.21]);
    expect(await h.app.get(ScoresService).rescoreStale()).toBe(0); // computed now: not stale
  });

  it('takes in, on a new score segment, the customers whose scores already qualify', async () => {
    const [spender, browser] = await h.customers(2);
    await event(spender!, { revenue: 2000 });
    await event(browser!, {});
    await waitFor(
      'both scored',
      async () => (await score(spender!)) !== null && (await score(browser!)) !== null,
    );
    const made = await h.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: { authorization: `Bearer ${h.adminKey}` },
      payload: { name: 'Big spenders', definition: { type: 'score', model: 'customer_value', gte: 0.4 } },
    });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    await h.app.get(SegmentsService).backfillNew(); // the scheduled job may have run it already
    await waitFor('the spender a member', async () => (await h.current(segmentId)).includes(spender!));
    expect(await h.current(segmentId)).not.toContain(browser);
    expect(
      (await h.prisma.segment.findUniqueOrThrow({ where: { id: segmentId } })).lastEvaluatedAt,
    ).not.toBeNull();
    const entries = (await h.stored(Subjects.segmentEntered)).filter(
      (e) => e.segmentId === segmentId && e.customerId === spender,
    );
    expect(entries).toMatchObject([{ cause: 'backfill' }]);
  });

  it('refuses a score condition without bounds, and one combined with a window', async () => {
    const create = (definition: unknown) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/segments',
        headers: { authorization: `Bearer ${h.adminKey}` },
        payload: { name: 'x', definition } as object,
      });
    const unbounded = await create({
      type: 'any',
      conditions: [
        { type: 'score', model: 'customer_value', lt: 0.1 },
        { type: 'score', model: 'churn_risk' },
      ],
    });
    expect(unbounded.statusCode).toBe(400);
    expect(JSON.stringify(unbounded.json())).toContain('/definition/conditions/1');
    const mixed = await create({
      type: 'any',
      conditions: [
        { type: 'score', model: 'customer_value', gte: 0.5 },
        { type: 'event', name: 'Loan Page Viewed', atLeast: 2, withinDays: 7 },
      ],
    });
    expect(mixed.statusCode).toBe(400);
    const badBound = await create({ type: 'score', model: 'customer_value', gte: 'high' });
    expect(badBound.statusCode).toBe(400);
    expect(JSON.stringify(badBound.json())).toContain('/definition/gte');
  });

  it('answers GET /v1/customers/:id/scores to a key with scores:read only', async () => {
    const [park] = await h.customers(1);
    await event(park!, { total: 1000 });
    await waitFor('park scored', async () => (await score(park!)) !== null);
    const get = (key: string, id: string) =>
      h.app.inject({
        method: 'GET',
        url: `/v1/customers/${id}/scores`,
        headers: { authorization: `Bearer ${key}` },
      });
    const ok = await get(h.adminKey, park!);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      customerId: park,
      scores: [{ model: 'customer_value', modelVersion: 'rfm-decay-2', value: 0.336 }],
    });
    expect((await get(h.apiKey, park!)).statusCode).toBe(403);
    expect((await get(h.adminKey, 'not-a-uuid')).statusCode).toBe(400);
  });

  it('forgets an erased customer’s activity and prunes counted event ids after 7 days', async () => {
    const [gone] = await h.customers(1);
    await event(gone!, { revenue: 10 });
    await eventsCounted(gone!, 1);
    await h.publish(Subjects.customerErased, {
      workspaceId: h.workspaceId,
      customerId: gone!,
      customerCode: 'C-gone',
      erasedIds: [gone!],
      erasedAt: new Date().toISOString(),
    });
    await waitFor('activity forgotten', async () => (await activity(gone!)) === null);
    expect(await score(gone!)).toBeNull();

    const longAgo = new Date(Date.now() - 8 * 86_400_000);
    await h.prisma.scoredEvent.upsert({
      where: { eventId: 1n },
      create: { eventId: 1n, workspaceId: h.workspaceId, scoredAt: longAgo },
      update: { scoredAt: longAgo },
    });
    const kept = await h.prisma.scoredEvent.count();
    expect(await h.app.get(ScoresService).pruneScoredEvents()).toBe(1);
    expect(await h.prisma.scoredEvent.count()).toBe(kept - 1);
  });

  it('lets a workspace set its own parameters, and scores its customers with them', async () => {
    const call = (method: 'GET' | 'PUT', key: string, payload?: object) =>
      h.app.inject({
        method,
        url: '/v1/scores/customer-value/parameters',
        headers: { authorization: `Bearer ${key}` },
        ...(payload && { payload }),
      });
    expect((await call('GET', h.adminKey)).json()).toEqual({
      halfLifeDays: 30,
      eventsMidpoint: 10,
      revenueMidpoint: 1000,
      source: 'deployment',
    });
    const bad = await call('PUT', h.adminKey, { halfLifeDays: 30, eventsMidpoint: 10, revenueMidpoint: 0 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('/revenueMidpoint');
    const won = { halfLifeDays: 30, eventsMidpoint: 10, revenueMidpoint: 100_000 };
    expect((await call('PUT', h.apiKey, won)).statusCode).toBe(403); // segments:read only
    const [before] = await h.customers(1);
    await event(before!, { revenue: 1000 });
    await waitFor('scored', async () => (await score(before!))?.value === 0.336);

    const set = await call('PUT', h.adminKey, won);
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ ...won, source: 'workspace' });
    // A new score uses them: 0.4 x 1/11 + 0.6 x 1000/101000.
    const [after] = await h.customers(1);
    await event(after!, { revenue: 1000 });
    await waitFor('scored with the workspace’s midpoint', async () => (await score(after!))?.value === 0.042);
    // Scores computed before are re-scored with them by the next run.
    await h.app.get(ScoresService).rescoreStale();
    expect((await score(before!))!.value).toBe(0.042);
    await h.prisma.scoreParameters.deleteMany();
  });
});
