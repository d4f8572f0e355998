// Lifecycle segments on the real local Postgres and NATS (own database and prefix): a customer
// enters when collection's cdp.profile.updated says they reached the stage a segment names and
// exits (cdp.segment.exited, which ad audiences act on) when they move on; stale updates change nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { SegmentsService } from '../src/segments/segments.service';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

describe('lifecycle segments', () => {
  let h: AnalysisHarness;
  const segments = { prospects: '', contracted: '', early: '' };

  const stage = (
    customerId: string,
    lifecycleStage: PayloadOf<typeof Subjects.profileUpdated>['lifecycleStage'],
    updatedAt: string,
  ) =>
    h.publish(Subjects.profileUpdated, {
      workspaceId: h.workspaceId,
      customerId,
      customerCode: `C-${customerId.slice(0, 8)}`,
      lifecycleStage,
      changedTraits: ['lifecycleStage'],
      traits: {},
      updatedAt,
    });
  const create = (name: string, definition: unknown) =>
    h.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: { authorization: `Bearer ${h.adminKey}` },
      payload: { name, definition } as object,
    });

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

  it('refuses a segment mixing event and lifecycle conditions, naming the field', async () => {
    const mixed = await create('Mixed', {
      type: 'any',
      conditions: [
        { type: 'event', name: 'Account Opened' },
        { type: 'lifecycle', stage: 'prospect' },
      ],
    });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().issues).toEqual([
      {
        path: '/definition',
        reason: expect.stringMatching(
          /must all be of one kind: on events .*, on the lifecycle stage, or on scores/,
        ),
      },
    ]);
    const badStage = await create('Bad', { type: 'lifecycle', stage: 'vip' });
    expect(badStage.statusCode).toBe(400);
  });

  it('takes in, on a new lifecycle segment, the customers already in its stage', async () => {
    const [lin, sam] = await h.customers(2);
    await stage(lin!, 'prospect', '2026-12-02T09:00:00.000Z');
    await stage(sam!, 'contracted', '2026-12-02T09:00:00.000Z');
    await waitFor(
      'both recorded',
      async () => (await h.prisma.customerStage.count({ where: { customerId: { in: [lin!, sam!] } } })) === 2,
    );
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
});
