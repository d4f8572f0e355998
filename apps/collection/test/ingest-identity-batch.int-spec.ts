// Set-wise identity resolution of a batch (IdentityService.resolveMany through IngestService) on
// the real Postgres: a batch must end exactly where resolving its calls one by one would, with
// the merges, refusals and splits only the sequential path makes.
import { laneOf } from '../src/ingest/lanes';
import { IngestSuite, accepted, type Accepted } from './ingest-fixtures';

describe('IngestService set-wise identity resolution', () => {
  const suite = new IngestSuite('ingest_identity_batch');

  beforeAll(() => suite.open());
  afterAll(() => suite.close());

  const call = (messageId: string, extra: Partial<Accepted>) =>
    accepted(suite.workspace, messageId, { userId: undefined, ...extra });

  async function customerOf(messageId: string) {
    const event = await suite.db.event.findFirstOrThrow({
      where: { messageId },
      include: { customer: true },
    });
    return event.customer!;
  }

  it('gives a new person one customer across their calls in one batch, and finds known people', async () => {
    const ingest = await suite.replica();
    await ingest.storeBatch([call('known-1', { userId: 'known-person', anonymousId: 'known-anon' })]);
    const known = await customerOf('known-1');

    await ingest.storeBatch([
      call('new-1', { anonymousId: 'new-anon' }),
      call('known-2', { anonymousId: 'known-anon' }),
      call('new-2', { anonymousId: 'new-anon', userId: 'new-person' }),
      call('new-3', { userId: 'new-person', type: 'identify', traits: { email: 'New@Example.com' } }),
      call('known-3', { userId: 'known-person', anonymousId: 'second-device' }),
    ]);

    const fresh = await customerOf('new-1');
    expect((await customerOf('new-2')).id).toBe(fresh.id);
    expect((await customerOf('new-3')).id).toBe(fresh.id);
    expect(fresh.email).toBe('new@example.com');
    expect(fresh.mergedIntoId).toBeNull();
    expect((await customerOf('known-2')).id).toBe(known.id);
    expect((await customerOf('known-3')).id).toBe(known.id);
    const identities = await suite.db.identity.findMany({
      where: { customerId: { in: [known.id, fresh.id] } },
      orderBy: [{ type: 'asc' }, { value: 'asc' }],
    });
    expect(
      identities.map((i) => `${i.customerId === known.id ? 'known' : 'new'}:${i.type}:${i.value}`),
    ).toEqual([
      'known:anonymous_id:known-anon',
      'new:anonymous_id:new-anon',
      'known:anonymous_id:second-device',
      'new:email:new@example.com',
      'known:user_id:known-person',
      'new:user_id:new-person',
    ]);
    expect(await suite.db.customerMerge.count({ where: { workspaceId: suite.workspace.workspaceId } })).toBe(
      0,
    );
  });

  it('merges where a call links two customers, and earlier events of the batch follow the survivor', async () => {
    const ingest = await suite.replica();
    await ingest.storeBatch([
      call('merge-a', { anonymousId: 'merge-anon' }),
      call('merge-b', { userId: 'merge-user' }),
    ]);
    const [a, b] = [await customerOf('merge-a'), await customerOf('merge-b')];
    expect(a.id).not.toBe(b.id);

    await ingest.storeBatch([
      call('merge-c', { anonymousId: 'merge-anon' }),
      call('merge-d', { anonymousId: 'merge-anon', userId: 'merge-user' }),
    ]);
    const survivor = await customerOf('merge-d');
    for (const id of ['merge-a', 'merge-b', 'merge-c']) expect((await customerOf(id)).id).toBe(survivor.id);
    expect(survivor.mergedIntoId).toBeNull();
    const merges = await suite.db.customerMerge.findMany({ where: { survivorId: survivor.id } });
    expect(merges).toHaveLength(1);
    expect(merges[0]).toMatchObject({ reason: 'shared_identifier' });
  });

  it('a second person on a shared device in one batch becomes a customer of their own', async () => {
    const ingest = await suite.replica();
    await ingest.storeBatch([
      call('device-1', { anonymousId: 'family-tablet', userId: 'parent' }),
      call('device-2', { anonymousId: 'family-tablet', userId: 'child' }),
    ]);
    const [parent, child] = [await customerOf('device-1'), await customerOf('device-2')];
    expect(child.id).not.toBe(parent.id);
    const childIds = await suite.db.identity.findMany({ where: { customerId: child.id } });
    expect(childIds.map((i) => i.value)).toEqual(['child']);
  });

  it('merges traits by call timestamp, not by arrival', async () => {
    const ingest = await suite.replica();
    const identify = (messageId: string, timestamp: string, traits: Record<string, unknown>) =>
      call(messageId, { type: 'identify', userId: 'timely', event: undefined, timestamp, traits });
    await ingest.storeBatch([
      identify('traits-new', '2026-11-02T10:00:00.000Z', { plan: 'gold', city: 'Seoul' }),
    ]);
    await ingest.storeBatch([
      identify('traits-old', '2026-11-01T10:00:00.000Z', { plan: 'bronze', age: 41 }),
      identify('traits-newer', '2026-11-03T10:00:00.000Z', { city: 'Busan' }),
      identify('traits-oldest', '2026-10-01T10:00:00.000Z', { city: 'Incheon' }),
    ]);
    const customer = await customerOf('traits-new');
    expect(customer.traits).toEqual({ plan: 'gold', city: 'Busan', age: 41 });
    expect(customer.traitTimestamps).toMatchObject({
      plan: '2026-11-02T10:00:00.000Z',
      city: '2026-11-03T10:00:00.000Z',
    });
  });

  it('a merge keeps the trait value set by the newer call, whichever profile was seen last', async () => {
    const ingest = await suite.replica();
    const identify = (
      messageId: string,
      timestamp: string,
      ids: Partial<Accepted>,
      traits: Record<string, unknown>,
    ) => call(messageId, { type: 'identify', event: undefined, timestamp, traits, ...ids });
    await ingest.storeBatch([
      identify('tier-a', '2026-11-05T00:00:00.000Z', { anonymousId: 'tier-anon' }, { tier: 'new' }),
    ]);
    await ingest.storeBatch([
      identify('tier-b', '2026-11-01T00:00:00.000Z', { userId: 'tier-user' }, { tier: 'old' }),
    ]);
    await ingest.storeBatch([call('tier-link', { anonymousId: 'tier-anon', userId: 'tier-user' })]);
    const survivor = await customerOf('tier-link');
    expect((await customerOf('tier-a')).id).toBe(survivor.id);
    expect(survivor.traits).toMatchObject({ tier: 'new' });
    expect(survivor.traitTimestamps).toMatchObject({ tier: '2026-11-05T00:00:00.000Z' });
  });

  it('gives one new person one customer when their calls go to different lanes at once', async () => {
    const ingest = await suite.replica(); // two lanes, two flushes each (the default)
    // An anonymous visitor and the same visitor identified: a lane is picked by userId, else
    // anonymousId, so these land in different lanes, and their batches run at the same time.
    const anonymousId = 'lanes-anon';
    const lane = laneOf({ workspaceId: suite.workspace.workspaceId, anonymousId }, 2);
    const userId = Array.from({ length: 50 }, (_, i) => `lanes-user-${i}`).find(
      (u) => laneOf({ workspaceId: suite.workspace.workspaceId, userId: u }, 2) !== lane,
    )!;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ingest.store(call(`lanes-${i}`, i % 2 ? { anonymousId } : { anonymousId, userId })),
      ),
    );
    const customers = new Set<string>();
    for (let i = 0; i < 40; i++) customers.add((await customerOf(`lanes-${i}`)).id);
    expect(customers.size).toBe(1);
    const [customerId] = [...customers];
    const identities = await suite.db.identity.findMany({ where: { customerId }, orderBy: { type: 'asc' } });
    expect(identities.map((i) => `${i.type}:${i.value}`)).toEqual([
      `anonymous_id:${anonymousId}`,
      `user_id:${userId}`,
    ]);
  });
});
