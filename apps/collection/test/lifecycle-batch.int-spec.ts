// Lifecycle stage changes of many events in one statement (LifecycleService.advanceMany) on the
// real Postgres and NATS: the highest stage per customer wins, stages never move back, and each
// change is announced once on cdp.profile.updated.
import { jetstream } from '@nats-io/jetstream';
import { streamName, Subjects } from '@cdp/contracts';
import { LifecycleService } from '../src/profiles/lifecycle.service';
import { IngestSuite, accepted } from './ingest-fixtures';

describe('LifecycleService.advanceMany', () => {
  const suite = new IngestSuite('lifecycle_batch');

  beforeAll(() => suite.open());
  afterAll(() => suite.close());

  async function profileUpdates(): Promise<
    Array<{ msgId: string; customerId: string; lifecycleStage: string }>
  > {
    const stream = streamName(suite.prefix, Subjects.profileUpdated.stream);
    const { state } = await suite.jsm.streams.info(stream);
    const consumer = await jetstream(suite.nc).consumers.get(stream);
    const out: Array<{ msgId: string; customerId: string; lifecycleStage: string }> = [];
    if (!state.messages) return out;
    for await (const m of await consumer.fetch({ max_messages: state.messages, expires: 5000 })) {
      if (m.subject.includes(Subjects.profileUpdated.name))
        out.push({
          msgId: m.headers?.get('Nats-Msg-Id') ?? '',
          ...m.json<{ customerId: string; lifecycleStage: string }>(),
        });
      if (m.seq >= state.last_seq) break;
    }
    return out;
  }

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
});
