// Batched persistence of accepted tracking calls on the real Postgres and NATS: one transaction
// per batch, dedup on (workspace, messageId) also inside a batch, one cdp.event.ingested per
// stored event (re-announced for a redelivered call), and concurrent batches of several
// replicas with overlapping identities: no deadlock surfaces, nothing is stored twice.
import { IngestSuite, accepted, testPrefix, type Accepted } from './ingest-fixtures';
import { cleanUpRun } from '@cdp/testing';

describe('IngestService batches', () => {
  const suite = new IngestSuite('ingest_batch');

  beforeAll(() => suite.open());
  afterAll(() => suite.close());

  it('stores a batch once, duplicates within the batch included, and announces each event once', async () => {
    const ingest = await suite.replica();
    const calls = Array.from({ length: 40 }, (_, i) => accepted(suite.workspace, `batch-${i}`));
    await ingest.storeBatch([...calls, calls[3]!, calls[7]!]);

    const counts = await suite.storedCounts();
    for (const call of calls) expect(counts.get(call.messageId)).toBe(1);
    const announced = (await suite.ingestedMessages()).filter((m) => m.event.messageId.startsWith('batch-'));
    expect(announced).toHaveLength(calls.length);
    const stored = await suite.db.event.findMany({
      where: { messageId: { startsWith: 'batch-' } },
      include: { customer: true },
    });
    for (const event of stored) {
      const message = announced.find((m) => m.event.messageId === event.messageId)!;
      expect(message.msgId).toBe(`event:${event.workspaceId}:${event.messageId}`);
      expect(message.event).toMatchObject({
        eventId: event.id.toString(),
        customerId: event.customerId,
        customerCode: event.customer!.customerCode,
        name: 'Product Viewed',
        properties: { messageId: event.messageId },
      });
    }
  });

  it('re-announces a stored call when it is delivered again (commit done, announcement lost)', async () => {
    // The first replica announces under another prefix: as far as this suite's stream is concerned,
    // it crashed after its commit and before its publish.
    const otherPrefix = testPrefix('ingest_lost');
    const crashed = await suite.replica(otherPrefix);
    const call = accepted(suite.workspace, 'lost-announcement');
    try {
      await crashed.storeBatch([call]);
    } finally {
      await cleanUpRun(otherPrefix);
    }
    expect((await suite.ingestedMessages()).some((m) => m.event.messageId === call.messageId)).toBe(false);

    const redelivered = await suite.replica();
    await redelivered.storeBatch([call, accepted(suite.workspace, 'next-to-it')]);

    expect((await suite.storedCounts()).get(call.messageId)).toBe(1);
    const stored = await suite.db.event.findFirstOrThrow({ where: { messageId: call.messageId } });
    const announced = (await suite.ingestedMessages()).filter((m) => m.event.messageId === call.messageId);
    expect(announced).toEqual([
      expect.objectContaining({
        msgId: `event:${call.workspaceId}:${call.messageId}`,
        event: expect.objectContaining({ eventId: stored.id.toString() }),
      }),
    ]);
  });

  it('fails the whole batch when one call cannot be stored; alone, the others are stored', async () => {
    const ingest = await suite.replica();
    // Postgres jsonb refuses \u0000: a message that fails every batch it is in.
    const poison = accepted(suite.workspace, 'poison', { properties: { text: 'a\u0000b' } });
    const healthy = accepted(suite.workspace, 'healthy-neighbour');
    await expect(ingest.storeBatch([healthy, poison])).rejects.toThrow(/unicode|\\u0000/i);
    expect((await suite.storedCounts()).get(healthy.messageId)).toBeUndefined();

    await expect(ingest.store(poison, { alone: true })).rejects.toThrow();
    await ingest.store(healthy, { alone: true });
    expect((await suite.storedCounts()).get(healthy.messageId)).toBe(1);
  });

  it('collects concurrent store() calls into batches and settles each caller', async () => {
    const ingest = await suite.replica();
    const calls = Array.from({ length: 300 }, (_, i) => accepted(suite.workspace, `micro-${i}`));
    await Promise.all(calls.map((c) => ingest.store(c)));
    const counts = await suite.storedCounts();
    expect(calls.every((c) => counts.get(c.messageId) === 1)).toBe(true);
    // All 300 events were written by a handful of transactions: their stored_at values (the
    // transaction start time) are shared by many rows.
    const groups = await suite.db.$queryRaw<Array<{ n: bigint }>>`
      SELECT count(*) AS n FROM events WHERE message_id LIKE 'micro-%' GROUP BY stored_at`;
    expect(groups.length).toBeLessThan(calls.length / 10);
  });

  it('lets several replicas store overlapping batches at once: no deadlock, one event per messageId, one customer per user', async () => {
    const replicas = await Promise.all([suite.replica(), suite.replica(), suite.replica()]);
    const users = Array.from({ length: 12 }, (_, i) => `shared-user-${i}`);
    const anonymous = Array.from({ length: 12 }, (_, i) => `shared-anon-${i}`);
    // Each batch touches the same identifiers in a different order; every call links a user to
    // an anonymous id of another user, so batches lock crossing sets of identifiers.
    const batches: Accepted[][] = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: 40 }, (_, i) => {
        const u = (i * (b + 1) + b) % users.length;
        return accepted(suite.workspace, `overlap-${b}-${i}`, {
          userId: users[u]!,
          anonymousId: anonymous[(u + b + i) % anonymous.length]!,
          traits: { email: `${users[u]}@example.com` },
        });
      }),
    );
    // The same batch again, to a second replica at the same moment: a race on the dedup key.
    batches.push(batches[0]!);
    await Promise.all(batches.map((batch, i) => replicas[i % replicas.length]!.storeBatch(batch)));

    const counts = await suite.storedCounts();
    const ids = new Set(batches.flat().map((c) => c.messageId));
    expect([...ids].filter((id) => counts.get(id) !== 1)).toEqual([]);
    const owners = await suite.db.identity.groupBy({
      by: ['value'],
      where: { type: 'user_id', value: { in: users } },
      _count: { customerId: true },
    });
    expect(owners).toHaveLength(users.length);
    for (const o of owners) expect(o._count.customerId).toBe(1);
  });

  it('keeps the tracking-plan violations a call was accepted with on the stored event', async () => {
    const ingest = await suite.replica();
    const violations = [{ path: '/properties/amount', reason: 'must be number' }];
    await ingest.storeBatch([
      accepted(suite.workspace, 'with-violations', { context: { ip: '10.0.0.1' }, violations }),
      accepted(suite.workspace, 'without-violations', { context: { ip: '10.0.0.2' } }),
    ]);
    const [flagged, clean] = await Promise.all(
      ['with-violations', 'without-violations'].map((messageId) =>
        suite.db.event.findFirstOrThrow({ where: { messageId } }),
      ),
    );
    expect(flagged!.context).toEqual({ ip: '10.0.0.1', violations });
    expect(clean!.context).toEqual({ ip: '10.0.0.2' });
  });
});
