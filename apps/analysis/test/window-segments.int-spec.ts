// Segments that count events (`atLeast`, `withinDays`) on the real local Postgres, NATS and Redis
// (own database and prefix): a customer enters when enough matching events fall within the window,
// a redelivered event counts once, events older than the window do not count, and a member leaves
// once their events age out of it (cdp.segment.exited), to enter again on new events.
import { SegmentsService } from '../src/segments/segments.service';
import { Subjects } from '@cdp/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

const DAY_MS = 86_400_000;

describe('segments counting events within a window', () => {
  let h: AnalysisHarness;
  let nextEventId = 5000;
  let window: string;

  /** A stored event of `customerId`, `daysAgo` days old; `eventId` again is a redelivery of that event. */
  const event = (customerId: string, name: string, daysAgo = 0, eventId = ++nextEventId) =>
    h.ingested({
      customerId,
      eventId,
      name,
      properties: { product: 'mortgage' },
      occurredAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
    });
  const counted = (customerId: string, n: number) =>
    waitFor(
      `${n} events counted`,
      async () => (await h.prisma.segmentEventHit.count({ where: { customerId } })) === n,
    );
  const create = (definition: unknown) =>
    h.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: { authorization: `Bearer ${h.adminKey}` },
      payload: { name: `segment ${++nextEventId}`, definition } as object,
    });
  const storedFor = async (subject: typeof Subjects.segmentEntered, segmentId: string, customerId: string) =>
    (await h.stored(subject)).filter((e) => e.segmentId === segmentId && e.customerId === customerId);

  beforeAll(async () => {
    h = await startAnalysis('anwindow');
    const made = await create({
      type: 'event',
      name: 'Loan Page Viewed',
      where: [{ property: 'product', op: 'eq', value: 'mortgage' }],
      atLeast: 3,
      withinDays: 7,
    });
    expect(made.statusCode).toBe(201);
    window = made.json<{ id: string }>().id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('enters a customer at the third matching event within 7 days, a redelivered event counted once', async () => {
    const [ana, ben] = await h.customers(2);
    await event(ana!, 'Loan Page Viewed', 0, 1);
    await event(ana!, 'Loan Page Viewed', 0, 1); // a redelivery
    await event(ana!, 'Loan Page Viewed', 1);
    await event(ana!, 'Savings Page Viewed');
    await counted(ana!, 2);
    await sleep(300);
    expect(await h.current(window)).not.toContain(ana);

    await event(ana!, 'Loan Page Viewed', 2);
    await waitFor('ana a member', async () => (await h.current(window)).includes(ana!));
    expect(await storedFor(Subjects.segmentEntered, window, ana!)).toHaveLength(1);

    // Two of Ben's three views are older than the window.
    await event(ben!, 'Loan Page Viewed', 10);
    await event(ben!, 'Loan Page Viewed', 9);
    await event(ben!, 'Loan Page Viewed', 0);
    await counted(ben!, 3);
    await sleep(300);
    expect(await h.current(window)).not.toContain(ben);
  });

  it('lets a member go once their events age out of the window, and takes them back on new ones', async () => {
    const [ana] = await h.current(window);
    const segments = h.app.get(SegmentsService);
    expect(await segments.expireWindows()).toBe(0); // all three still within the window
    // A week passes.
    await h.prisma
      .$executeRaw`UPDATE segment_event_hits SET occurred_at = occurred_at - interval '8 days' WHERE customer_id = ${ana}`;
    expect(await segments.expireWindows()).toBe(1);
    expect(await h.current(window)).not.toContain(ana);
    await waitFor(
      'the exit stored',
      async () => (await storedFor(Subjects.segmentExited, window, ana!)).length === 1,
    );
    expect((await storedFor(Subjects.segmentExited, window, ana!))[0]).toMatchObject({ cause: 'window' });
    // Counted events older than the window are forgotten; a second check lets no one go again.
    expect(await h.prisma.segmentEventHit.count({ where: { customerId: ana! } })).toBe(0);
    expect(await segments.expireWindows()).toBe(0);

    for (let i = 0; i < 3; i++) await event(ana!, 'Loan Page Viewed');
    await waitFor('ana a member again', async () => (await h.current(window)).includes(ana!));
    expect(await storedFor(Subjects.segmentEntered, window, ana!)).toHaveLength(2);
  });

  it('counts a merged customer’s events for the survivor', async () => {
    const [web, branch] = await h.customers(2);
    await event(web!, 'Loan Page Viewed');
    await event(branch!, 'Loan Page Viewed');
    await counted(web!, 1);
    await counted(branch!, 1);
    await h.publish(Subjects.identityMerged, {
      workspaceId: h.workspaceId,
      survivorId: web!,
      mergedIds: [branch!],
      reason: 'shared identifier email',
      mergeId: 'mrg-window',
      mergedAt: new Date().toISOString(),
    });
    await counted(web!, 2);
    expect(await h.prisma.segmentEventHit.count({ where: { customerId: branch! } })).toBe(0);
    await event(web!, 'Loan Page Viewed'); // the third view of the person
    await waitFor('the survivor a member', async () => (await h.current(window)).includes(web!));
  });

  it('counts all of a customer’s events with atLeast alone, and keeps them in the segment', async () => {
    const made = await create({ type: 'event', name: 'Branch Visited', atLeast: 2 });
    expect(made.statusCode).toBe(201);
    const regulars = made.json<{ id: string }>().id;
    const [cho] = await h.customers(1);
    await event(cho!, 'Branch Visited', 400);
    await counted(cho!, 1);
    await sleep(300);
    expect(await h.current(regulars)).toEqual([]);
    await event(cho!, 'Branch Visited');
    await waitFor('cho a member', async () => (await h.current(regulars)).includes(cho!));
    await h.app.get(SegmentsService).expireWindows();
    expect(await h.current(regulars)).toEqual([cho]);
  });

  it('refuses a window mixed with other conditions, and bad counts, with the field path', async () => {
    const mixed = await create({
      type: 'any',
      conditions: [
        { type: 'event', name: 'Loan Page Viewed', withinDays: 7 },
        { type: 'event', name: 'Loan Applied' },
      ],
    });
    expect(mixed.statusCode).toBe(400);
    expect(JSON.stringify(mixed.json())).toContain('within a window');
    const zero = await create({ type: 'event', name: 'Loan Page Viewed', atLeast: 0 });
    expect(zero.statusCode).toBe(400);
    expect(JSON.stringify(zero.json())).toContain('/definition/atLeast');
    const tooLong = await create({ type: 'event', name: 'Loan Page Viewed', withinDays: 400 });
    expect(tooLong.statusCode).toBe(400);
    expect(JSON.stringify(tooLong.json())).toContain('/definition/withinDays');
  });

  it('enters a customer who did all of several events, in whatever order, and keeps them', async () => {
    const made = await create({
      type: 'all',
      conditions: [
        { type: 'event', name: 'Loan Applied' },
        {
          type: 'event',
          name: 'Advisor Met',
          where: [{ property: 'product', op: 'eq', value: 'mortgage' }],
        },
      ],
    });
    expect(made.statusCode).toBe(201);
    const both = made.json<{ id: string }>().id;
    const [gil, dan] = await h.customers(2);
    await event(gil!, 'Advisor Met');
    await event(dan!, 'Loan Applied');
    await counted(gil!, 1);
    await counted(dan!, 1);
    await sleep(300);
    expect(await h.current(both)).toEqual([]);

    await event(gil!, 'Loan Applied');
    await waitFor('gil a member', async () => (await h.current(both)).includes(gil!));
    expect(await h.current(both)).not.toContain(dan);
    await event(gil!, 'Loan Applied');
    await sleep(300);
    expect(await storedFor(Subjects.segmentEntered, both, gil!)).toHaveLength(1);
  });

  it('counts events of several names together', async () => {
    const made = await create({ type: 'event', name: ['Branch Visited', 'Advisor Called'], atLeast: 3 });
    expect(made.statusCode).toBe(201);
    const engaged = made.json<{ id: string }>().id;
    const [hana] = await h.customers(1);
    await event(hana!, 'Branch Visited');
    await event(hana!, 'Advisor Called');
    await event(hana!, 'Savings Page Viewed');
    await sleep(300);
    expect(await h.current(engaged)).not.toContain(hana);
    await event(hana!, 'Advisor Called');
    await waitFor('hana a member', async () => (await h.current(engaged)).includes(hana!));
  });
});
