import { startIdentityHarness, type IdentityHarness } from './identity-support';

describe('identity resolution under concurrency (real Postgres, separate transactions)', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await startIdentityHarness('concurrency');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('20 concurrent first calls of one new person create exactly one customer', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.resolve(
          i % 2 ? { userId: 'u-new', anonymousId: 'anon-new' } : { anonymousId: 'anon-new', userId: 'u-new' },
        ),
      ),
    );
    expect(new Set(results.map((c) => c.id)).size).toBe(1);
    expect(await h.prisma.customer.count()).toBe(1);
    expect(await h.prisma.identity.count()).toBe(2);
  });

  it('concurrent calls that trigger the same merge do not deadlock and merge once', async () => {
    const a = await h.resolve({ userId: 'u-m', traits: { email: 'm@example.com' } });
    const b = await h.resolve({ anonymousId: 'anon-m', traits: { phone: '+821055550000' } });
    // Two kinds of calls that share no identifier with each other but link the same two customers.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        h.resolve(
          i % 2
            ? { userId: 'u-m', anonymousId: 'anon-m' }
            : { traits: { email: 'm@example.com', phone: '+82 10 5555 0000' } },
        ),
      ),
    );
    expect(new Set(results.map((c) => c.id))).toEqual(new Set([a.id]));
    expect(await h.prisma.customerMerge.findMany({ where: { mergedId: b.id } })).toEqual([
      expect.objectContaining({ survivorId: a.id }),
    ]);
    expect(await h.prisma.customerMerge.count()).toBe(1);
  });
});
