// Profile segments on the real local Postgres and NATS (own database and prefix): a customer
// enters when collection's cdp.profile.updated says they reached the stage a segment names, or
// their traits came to match its trait condition, and exits (cdp.segment.exited, which ad
// audiences act on) when they no longer do; stale updates change nothing; new segments take in
// the customers whose last announced profile already matches.
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { SegmentsService } from '../src/segments/segments.service';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

describe('profile segments: lifecycle stage and traits', () => {
  let h: AnalysisHarness;
  const segments = { prospects: '', contracted: '', early: '' };

  type Stage = PayloadOf<typeof Subjects.profileUpdated>['lifecycleStage'];
  const profile = (
    customerId: string,
    stage: Stage,
    traits: Record<string, unknown>,
    changedTraits: string[],
    updatedAt: string,
  ) => h.profileUpdated({ customerId, stage, traits, changedTraits, updatedAt });
  const stage = (customerId: string, lifecycleStage: Stage, updatedAt: string) =>
    profile(customerId, lifecycleStage, {}, ['lifecycleStage'], updatedAt);
  const create = (name: string, definition: unknown) => h.createSegment(name, definition);

  beforeAll(async () => {
    h = await startAnalysis('anlife');
    const made = await Promise.all([
      create('Prospects', { type: 'lifecycle', stage: 'prospect' }),
      create('Customers', { type: 'lifecycle', stage: 'contracted' }),
      create('Not yet customers', {
        type: 'any',
        conditions: [
          { type: 'lifecycle', stage: 'potential' },
          { type: 'lifecycle', stage: 'prospect' },
        ],
      }),
    ]);
    expect(made.map((r) => r.statusCode)).toEqual([201, 201, 201]);
    [segments.prospects, segments.contracted, segments.early] = made.map((r) => r.json().id);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('enters on reaching the stage and exits on leaving it, announcing both', async () => {
    const [kim] = await h.customers(1);
    await stage(kim!, 'prospect', '2026-12-01T10:00:00.000Z');
    await waitFor('kim a prospect', async () => (await h.current(segments.prospects)).includes(kim!));
    expect(await h.current(segments.early)).toEqual([kim]);
    expect(await h.current(segments.contracted)).toEqual([]);

    await stage(kim!, 'contracted', '2026-12-02T10:00:00.000Z');
    await waitFor('kim contracted', async () => (await h.current(segments.contracted)).includes(kim!));
    expect(await h.current(segments.prospects)).toEqual([]);
    expect(await h.current(segments.early)).toEqual([]);
    await waitFor('the exits announced', async () => h.exited.filter((c) => c === kim).length === 2);
    expect(h.entered.filter((c) => c === kim)).toHaveLength(3);
    const left = await h.prisma.segmentMembership.findUniqueOrThrow({
      where: { segmentId_customerId: { segmentId: segments.prospects, customerId: kim! } },
    });
    expect(left.exitedAt).toEqual(new Date('2026-12-02T10:00:00.000Z'));
  });

  it('ignores an update older than the membership’s last change (overtaken or redelivered)', async () => {
    const [lee] = await h.customers(1);
    await stage(lee!, 'contracted', '2026-12-03T10:00:00.000Z');
    await waitFor('lee contracted', async () => (await h.current(segments.contracted)).includes(lee!));
    await stage(lee!, 'prospect', '2026-12-02T10:00:00.000Z'); // older: arrived late
    await sleep(700);
    expect(await h.current(segments.contracted)).toContain(lee);
    expect(h.exited).not.toContain(lee);
  });

  it('refuses a bad stage, or a comparison without a value, naming the field', async () => {
    const badStage = await create('Bad', { type: 'lifecycle', stage: 'vip' });
    expect(badStage.statusCode).toBe(400);
    const noValue = await create('No value', {
      type: 'any',
      conditions: [
        { type: 'lifecycle', stage: 'prospect' },
        { type: 'trait', trait: 'plan', op: 'eq' },
      ],
    });
    expect(noValue.statusCode).toBe(400);
    expect(noValue.json().issues).toEqual([
      { path: '/definition/conditions/1/value', reason: 'op eq needs a value to compare with' },
    ]);
  });

  it('follows traits: enters when they come to match, exits when they no longer do', async () => {
    const made = await create('Gold customers or contracted', {
      type: 'any',
      conditions: [
        { type: 'trait', trait: 'plan', op: 'eq', value: 'gold' },
        { type: 'lifecycle', stage: 'contracted' },
      ],
    });
    expect(made.statusCode).toBe(201);
    const gold = made.json<{ id: string }>().id;
    const [ann] = await h.customers(1);
    await profile(ann!, 'potential', { plan: 'silver' }, ['plan'], '2026-12-01T10:00:00.000Z');
    await profile(ann!, 'potential', { plan: 'gold' }, ['plan'], '2026-12-01T11:00:00.000Z');
    await waitFor('ann gold', async () => (await h.current(gold)).includes(ann!));
    const entry = (await h.stored(Subjects.segmentEntered)).find((e) => e.segmentId === gold);
    expect(entry).toMatchObject({ customerId: ann, cause: 'traits:plan', at: '2026-12-01T11:00:00.000Z' });

    await profile(ann!, 'potential', { plan: 'bronze' }, ['plan'], '2026-12-01T12:00:00.000Z');
    await waitFor('ann left', async () => !(await h.current(gold)).includes(ann!));
    // Contracted: a member again through the other condition, whatever the plan.
    await profile(ann!, 'contracted', { plan: 'bronze' }, ['lifecycleStage'], '2026-12-01T13:00:00.000Z');
    await waitFor('ann contracted', async () => (await h.current(gold)).includes(ann!));
    const snapshot = await h.prisma.profileSnapshot.findUniqueOrThrow({ where: { customerId: ann! } });
    expect(snapshot).toMatchObject({ stage: 'contracted', traits: { plan: 'bronze' } });
  });

  it('takes in, on a new trait segment, the customers whose last profile already matches', async () => {
    const [kai, mo] = await h.customers(2);
    await profile(kai!, 'prospect', { address: { city: 'Busan' } }, ['address'], '2026-12-02T09:00:00.000Z');
    await profile(mo!, 'prospect', { address: { city: 'Seoul' } }, ['address'], '2026-12-02T09:00:00.000Z');
    await h.snapshotsKept([kai!, mo!]);
    const made = await create('Busan', { type: 'trait', trait: 'address.city', op: 'eq', value: 'Busan' });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    await h.app.get(SegmentsService).backfillNew();
    await waitFor('kai taken in', async () => (await h.current(segmentId)).includes(kai!));
    expect(await h.current(segmentId)).not.toContain(mo);
  });

  it('takes in, on a new lifecycle segment, the customers already in its stage', async () => {
    const [lin, sam] = await h.customers(2);
    await stage(lin!, 'prospect', '2026-12-02T09:00:00.000Z');
    await stage(sam!, 'contracted', '2026-12-02T09:00:00.000Z');
    await h.snapshotsKept([lin!, sam!]);
    const made = await create('Prospects to call', { type: 'lifecycle', stage: 'prospect' });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    await h.app.get(SegmentsService).backfillNew(); // the scheduled job may have run it already
    await waitFor('lin taken in', async () => (await h.current(segmentId)).includes(lin!));
    expect(await h.current(segmentId)).not.toContain(sam);
    const entries = (await h.stored(Subjects.segmentEntered)).filter((e) => e.segmentId === segmentId);
    expect(entries.filter((e) => e.customerId === lin)).toMatchObject([{ cause: 'backfill' }]);
    // The stage moves on after the back-fill: the member leaves as usual.
    await stage(lin!, 'contracted', '2026-12-03T09:00:00.000Z');
    await waitFor('lin left', async () => !(await h.current(segmentId)).includes(lin!));
  });

  it('enters a customer whose profile meets all of several conditions, and exits when one fails', async () => {
    const made = await create('Gold prospects in Busan', {
      type: 'all',
      conditions: [
        { type: 'lifecycle', stage: 'prospect' },
        { type: 'trait', trait: 'plan', op: 'eq', value: 'gold' },
        { type: 'trait', trait: 'city', op: 'eq', value: 'Busan' },
      ],
    });
    expect(made.statusCode).toBe(201);
    const segmentId = made.json<{ id: string }>().id;
    const [eve] = await h.customers(1);
    await profile(
      eve!,
      'prospect',
      { plan: 'gold', city: 'Seoul' },
      ['plan', 'city'],
      '2026-12-04T09:00:00.000Z',
    );
    await profile(eve!, 'prospect', { plan: 'gold', city: 'Busan' }, ['city'], '2026-12-04T10:00:00.000Z');
    await waitFor('eve a member', async () => (await h.current(segmentId)).includes(eve!));
    await profile(
      eve!,
      'contracted',
      { plan: 'gold', city: 'Busan' },
      ['lifecycleStage'],
      '2026-12-04T11:00:00.000Z',
    );
    await waitFor('eve left', async () => !(await h.current(segmentId)).includes(eve!));
  });
});
