// cdp.profile.updated of trait changes on the real Postgres and NATS: a batch that changes a
// customer's trait values announces their profile once (only the changed traits named), a call
// that repeats what is stored announces nothing, the stage a batch moved is the one announced, and
// a redelivery after a crash before the announcements announces the profile again.
import { cleanUpRun, testPrefix } from '@cdp/testing';
import { IngestSuite, accepted } from './ingest-fixtures';

describe('profile updates of traits', () => {
  const suite = new IngestSuite('profile_updates');

  beforeAll(() => suite.open());
  afterAll(() => suite.close());

  const identify = (messageId: string, userId: string, traits: Record<string, unknown>, at = new Date()) =>
    accepted(suite.workspace, messageId, {
      type: 'identify',
      event: undefined,
      userId,
      traits,
      properties: undefined,
      timestamp: at.toISOString(),
    });
  const customerOf = async (messageId: string) =>
    (await suite.db.event.findFirstOrThrow({ where: { messageId } })).customerId!;
  const updatesOf = async (customerId: string) =>
    (await suite.profileUpdates()).filter((u) => u.customerId === customerId);

  it('announces the changed traits once per batch, with the profile after the batch', async () => {
    const ingest = await suite.replica();
    const t0 = Date.now() - 60_000;
    await ingest.storeBatch([
      identify('pu-1', 'pu-ann', { plan: 'gold', city: 'Seoul' }, new Date(t0)),
      identify('pu-2', 'pu-ann', { city: 'Busan', age: 41 }, new Date(t0 + 1000)),
    ]);
    const ann = await customerOf('pu-1');
    const [update, ...more] = await updatesOf(ann);
    expect(more).toEqual([]);
    expect(update).toMatchObject({
      msgId: `profile:${ann}:pu-2`,
      lifecycleStage: 'potential',
      traits: { plan: 'gold', city: 'Busan', age: 41 },
    });
    expect(update!.changedTraits.sort()).toEqual(['age', 'city', 'plan']);
    const stored = await suite.db.customer.findUniqueOrThrow({ where: { id: ann } });
    expect(update!.updatedAt).toBe(stored.updatedAt.toISOString());

    // The same values again (an SDK identifies on every page): nothing to announce.
    await ingest.storeBatch([identify('pu-3', 'pu-ann', { plan: 'gold', age: 41 })]);
    expect(await updatesOf(ann)).toHaveLength(1);

    // One value changed: only it is named.
    await ingest.storeBatch([identify('pu-4', 'pu-ann', { plan: 'platinum', age: 41 })]);
    const latest = (await updatesOf(ann)).at(-1)!;
    expect(latest).toMatchObject({ msgId: `profile:${ann}:pu-4`, changedTraits: ['plan'] });
    expect(latest.traits).toMatchObject({ plan: 'platinum', city: 'Busan' });
  });

  it('a late older call that changes nothing announces nothing', async () => {
    const ingest = await suite.replica();
    await ingest.storeBatch([identify('pu-late-1', 'pu-late', { plan: 'gold' })]);
    const late = await customerOf('pu-late-1');
    await ingest.storeBatch([
      identify('pu-late-2', 'pu-late', { plan: 'bronze' }, new Date(Date.now() - 3_600_000)),
    ]);
    const updates = await updatesOf(late);
    expect(updates.map((u) => u.msgId)).toEqual([`profile:${late}:pu-late-1`]);
    expect((await suite.db.customer.findUniqueOrThrow({ where: { id: late } })).traits).toEqual({
      plan: 'gold',
    });
  });

  it('carries the stage the same batch moved the customer to', async () => {
    const ingest = await suite.replica();
    await ingest.storeBatch([
      identify('pu-stage-1', 'pu-stage', { email: 'stage@example.com' }),
      accepted(suite.workspace, 'pu-stage-2', { userId: 'pu-stage', event: 'Contract Opened' }),
    ]);
    const customer = await customerOf('pu-stage-1');
    const updates = await updatesOf(customer);
    expect(updates.map((u) => [u.msgId, u.lifecycleStage]).sort()).toEqual(
      [
        [`lifecycle:${customer}:contracted:pu-stage-2`, 'contracted'],
        [`profile:${customer}:pu-stage-1`, 'contracted'],
      ].sort(),
    );
    expect(updates.every((u) => u.traits.email === 'stage@example.com')).toBe(true);
  });

  it('announces the profile again when the batch that changed it is delivered again after a crash before its announcements', async () => {
    const otherPrefix = testPrefix('profile_lost');
    const crashed = await suite.replica(otherPrefix);
    const call = identify('pu-lost', 'pu-lost', { segment: 'vip' });
    try {
      await crashed.storeBatch([call]);
    } finally {
      await cleanUpRun(otherPrefix);
    }
    const customer = await customerOf('pu-lost');
    expect(await updatesOf(customer)).toEqual([]);

    const ingest = await suite.replica();
    await ingest.storeBatch([call]);
    await ingest.storeBatch([call]);
    expect(await updatesOf(customer)).toEqual([
      expect.objectContaining({
        msgId: `profile:${customer}:pu-lost`,
        changedTraits: ['segment'],
        traits: { segment: 'vip' },
      }),
    ]);
  });
});
