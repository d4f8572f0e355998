// Segments combining conditions of several kinds (a trait and an event, a stage or a score) on the
// real local Postgres, NATS and Redis (own database and prefix): the whole rule is evaluated on
// each stored event, profile change and score change of the customer, so they enter once every
// part holds, whichever came last, and exit when the profile part no longer does.
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects } from '@cdp/contracts';
import { SegmentsService } from '../src/segments/segments.service';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

describe('combined segments', () => {
  let h: AnalysisHarness;
  let nextEventId = 20_000;
  let goldApplicants: string;
  let clock = Date.parse('2026-12-05T00:00:00.000Z');

  const event = (customerId: string, name: string) =>
    h.ingested({ customerId, eventId: ++nextEventId, name });
  const traits = (customerId: string, values: Record<string, unknown>, changedTraits = Object.keys(values)) =>
    h.profileUpdated({
      customerId,
      stage: 'prospect',
      traits: values,
      changedTraits,
      updatedAt: new Date((clock += 60_000)).toISOString(),
    });
  const create = (name: string, definition: unknown) => h.createSegment(name, definition);
  const announced = async (segmentId: string, customerId: string) => {
    const mine = (e: { segmentId: string; customerId: string }) =>
      e.segmentId === segmentId && e.customerId === customerId;
    return {
      entered: (await h.stored(Subjects.segmentEntered)).filter(mine).map((e) => e.cause),
      exited: (await h.stored(Subjects.segmentExited)).filter(mine).map((e) => e.cause),
    };
  };

  beforeAll(async () => {
    h = await startAnalysis('ancombined');
    const made = await create('Gold customers who applied for a loan', {
      type: 'all',
      conditions: [
        { type: 'trait', trait: 'plan', op: 'eq', value: 'gold' },
        { type: 'event', name: 'Loan Applied' },
      ],
    });
    expect(made.statusCode).toBe(201);
    goldApplicants = made.json<{ id: string }>().id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('enters once the trait and the event both hold, whichever came last, and follows the trait', async () => {
    const [ana, ben] = await h.customers(2);
    // Ana: the trait first, then the event.
    await traits(ana!, { plan: 'gold' });
    await h.snapshotsKept([ana!]);
    await sleep(300);
    expect(await h.current(goldApplicants)).toEqual([]);
    await event(ana!, 'Loan Applied');
    await waitFor('ana a member', async () => (await h.current(goldApplicants)).includes(ana!));

    // Ben: the event first, then the trait.
    await event(ben!, 'Loan Applied');
    await waitFor(
      'ben’s event counted',
      async () => (await h.prisma.segmentEventHit.count({ where: { customerId: ben! } })) === 1,
    );
    await sleep(300);
    expect(await h.current(goldApplicants)).not.toContain(ben);
    await traits(ben!, { plan: 'gold' });
    await waitFor('ben a member', async () => (await h.current(goldApplicants)).includes(ben!));

    // The trait changes: Ana leaves; it comes back: she enters again (her application still counts).
    await traits(ana!, { plan: 'silver' });
    await waitFor('ana left', async () => !(await h.current(goldApplicants)).includes(ana!));
    await event(ana!, 'Loan Applied');
    await sleep(300);
    expect(await h.current(goldApplicants)).not.toContain(ana);
    await traits(ana!, { plan: 'gold' });
    await waitFor('ana back', async () => (await h.current(goldApplicants)).includes(ana!));
    expect(await announced(goldApplicants, ana!)).toEqual({
      entered: [expect.stringMatching(/^m-/), 'traits:plan'],
      exited: ['traits:plan'],
    });
    expect(await announced(goldApplicants, ben!)).toEqual({ entered: ['traits:plan'], exited: [] });
  });

  it('takes in, on a new combined segment, the customers whose profile already meets it', async () => {
    const [cho, dan] = await h.customers(2);
    await traits(cho!, { city: 'Busan' });
    await traits(dan!, { city: 'Seoul' });
    await h.snapshotsKept([cho!, dan!]);
    const made = await create('Busan or branch visitors', {
      type: 'any',
      conditions: [
        { type: 'trait', trait: 'city', op: 'eq', value: 'Busan' },
        { type: 'event', name: 'Branch Visited' },
      ],
    });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    await h.app.get(SegmentsService).backfillNew();
    await waitFor('cho taken in', async () => (await h.current(segmentId)).includes(cho!));
    expect(await h.current(segmentId)).not.toContain(dan);
    await event(dan!, 'Branch Visited');
    await waitFor('dan in through the event', async () => (await h.current(segmentId)).includes(dan!));
    expect((await announced(segmentId, cho!)).entered).toEqual(['backfill']);
  });

  it('follows a score combined with a trait, on each score the customer gets', async () => {
    const made = await create('Scored VIPs', {
      type: 'all',
      conditions: [
        { type: 'trait', trait: 'vip', op: 'eq', value: true },
        { type: 'score', model: 'customer_value', gte: 0 },
      ],
    });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    const [eve, fay] = await h.customers(2);
    await traits(eve!, { vip: true });
    await traits(fay!, { vip: false });
    await h.snapshotsKept([eve!, fay!]);
    await sleep(300);
    expect(await h.current(segmentId)).toEqual([]); // no score yet
    await event(eve!, 'Account Opened');
    await event(fay!, 'Account Opened');
    await waitFor('eve a member once scored', async () => (await h.current(segmentId)).includes(eve!));
    expect((await announced(segmentId, eve!)).entered).toEqual([
      expect.stringMatching(/^score:customer_value:/),
    ]);
    await waitFor(
      'fay scored',
      async () => (await h.prisma.score.count({ where: { customerId: fay! } })) === 1,
    );
    await sleep(300);
    expect(await h.current(segmentId)).toEqual([eve]);
  });

  it('refuses a window combined with other kinds, naming the field', async () => {
    const mixed = await create('Window and trait', {
      type: 'all',
      conditions: [
        { type: 'event', name: 'Loan Page Viewed', atLeast: 2, withinDays: 7 },
        { type: 'trait', trait: 'plan', op: 'exists' },
      ],
    });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().issues).toEqual([
      {
        path: '/definition',
        reason: expect.stringContaining('within a window (withinDays) cannot be combined'),
      },
    ]);
  });
});
