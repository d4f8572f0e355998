// Lifecycle stage changes of many events in one statement on the real Postgres and NATS: the
// highest stage per customer wins, stages never move back, each change is announced once on
// cdp.profile.updated, and an ingest batch moves its customers in the transaction that stores it.
import { cleanUpRun, testPrefix } from '@cdp/testing';
import { LifecycleService } from '../src/profiles/lifecycle.service';
import { IngestSuite, accepted } from './ingest-fixtures';

describe('lifecycle stages', () => {
  const suite = new IngestSuite('lifecycle_batch');

  beforeAll(() => suite.open());
  afterAll(() => suite.close());

  const profileUpdates = () => suite.profileUpdates();

  it('moves each customer to the highest stage asked, never back, and announces each change once', async () => {
    const ingest = await suite.replica();
    await ingest.storeBatch(
      ['a', 'b', 'c'].map((p) => accepted(suite.workspace, `life-${p}`, { userId: `life-${p}` })),
    );
    const customers = await suite.db.event.findMany({
      where: { messageId: { startsWith: 'life-' } },
      orderBy: { messageId: 'asc' },
      select: { customerId: true },
    });
    const [a, b, c] = customers.map((e) => e.customerId!);
    await suite.db.customer.update({ where: { id: c }, data: { lifecycleStage: 'contracted' } });
    const lifecycle = new LifecycleService(await suite.databaseService(), await suite.publisher());
    const ws = suite.workspace.workspaceId;

    const made = await lifecycle.advanceMany([
      { workspaceId: ws, customerId: a!, stage: 'prospect', cause: 'm1' },
      { workspaceId: ws, customerId: a!, stage: 'contracted', cause: 'm2' },
      { workspaceId: ws, customerId: a!, stage: 'prospect', cause: 'm3' },
      { workspaceId: ws, customerId: b!, stage: 'prospect', cause: 'm4' },
      { workspaceId: ws, customerId: c!, stage: 'prospect', cause: 'm5' },
    ]);
    expect(made.map((m) => [m.customerId, m.stage]).sort()).toEqual(
      [
        [a, 'contracted'],
        [b, 'prospect'],
      ].sort(),
    );
    const stages = await suite.db.customer.findMany({ where: { id: { in: [a!, b!, c!] } } });
    expect(Object.fromEntries(stages.map((s) => [s.id, s.lifecycleStage]))).toEqual({
      [a!]: 'contracted',
      [b!]: 'prospect',
      [c!]: 'contracted',
    });
    // Asked again (a redelivery): nothing moves, nothing is announced again.
    expect(
      await lifecycle.advanceMany([{ workspaceId: ws, customerId: b!, stage: 'prospect', cause: 'm4' }]),
    ).toEqual([]);
    const updates = await profileUpdates();
    expect(updates.map((u) => u.msgId).sort()).toEqual(
      [`lifecycle:${a}:contracted:m2`, `lifecycle:${b}:prospect:m4`].sort(),
    );
  });

  it('moves customers in the ingest batch that stores their events, and a redelivered batch announces no change twice', async () => {
    const ingest = await suite.replica();
    // Default rules: journey stage `purchase` -> prospect, `Contract Opened` -> contracted.
    const batch = [
      accepted(suite.workspace, 'inline-1', { userId: 'inline-p', journeyStage: 'purchase' }),
      accepted(suite.workspace, 'inline-2', { userId: 'inline-c', journeyStage: 'purchase' }),
      accepted(suite.workspace, 'inline-3', { userId: 'inline-c', event: 'Contract Opened' }),
      accepted(suite.workspace, 'inline-4', { userId: 'inline-n' }),
    ];
    await ingest.storeBatch(batch);
    const events = await suite.db.event.findMany({
      where: { messageId: { startsWith: 'inline-' } },
      orderBy: { messageId: 'asc' },
      select: { customerId: true, customer: { select: { lifecycleStage: true } } },
    });
    expect(events.map((e) => e.customer?.lifecycleStage)).toEqual([
      'prospect',
      'contracted',
      'contracted',
      'potential',
    ]);
    const [p, c] = [events[0]!.customerId!, events[1]!.customerId!];
    const expected = [`lifecycle:${p}:prospect:inline-1`, `lifecycle:${c}:contracted:inline-3`];
    const inline = async () =>
      (await profileUpdates()).filter((u) => u.customerId === p || u.customerId === c).map((u) => u.msgId);
    expect((await inline()).sort()).toEqual(expected.sort());

    // The same batch again, as after a crash before its ack: stored once, announced once.
    await ingest.storeBatch(batch);
    expect(await suite.db.event.count({ where: { messageId: { startsWith: 'inline-' } } })).toBe(4);
    expect((await inline()).sort()).toEqual(expected.sort());
  });

  it('announces a stage change again when the batch that made it is delivered again after a crash before its announcements', async () => {
    // This replica announces under another prefix: for this suite's stream it died after its commit.
    const otherPrefix = testPrefix('lifecycle_lost');
    const crashed = await suite.replica(otherPrefix);
    const call = accepted(suite.workspace, 'lost-stage', { userId: 'lost-stage', event: 'Contract Opened' });
    try {
      await crashed.storeBatch([call]);
    } finally {
      await cleanUpRun(otherPrefix);
    }
    const { customerId } = await suite.db.event.findFirstOrThrow({ where: { messageId: 'lost-stage' } });
    const announced = async () => (await profileUpdates()).filter((u) => u.customerId === customerId);
    expect(await announced()).toEqual([]);

    await (await suite.replica()).storeBatch([call]);
    expect(await announced()).toEqual([
      expect.objectContaining({
        msgId: `lifecycle:${customerId}:contracted:lost-stage`,
        lifecycleStage: 'contracted',
      }),
    ]);
  });
});
