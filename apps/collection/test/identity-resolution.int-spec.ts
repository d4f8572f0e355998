import { Client } from 'pg';
import { stripNationalId } from '../src/identity/identity.service';
import { startIdentityHarness, TEST_NATIONAL_ID_SECRET, type IdentityHarness } from './identity-support';

describe('identity resolution (IdentityService in real transactions)', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await startIdentityHarness('resolution');
  });
  afterAll(async () => {
    await h?.close();
  });

  const identitiesOf = (customerId: string) =>
    h.prisma.identity.findMany({
      where: { customerId },
      select: { type: true, value: true },
      orderBy: { type: 'asc' },
    });

  it('links every identifier of a call to one customer and finds it again by any of them', async () => {
    const first = await h.resolve({
      userId: 'u-links',
      anonymousId: 'anon-links',
      traits: {
        email: ' Links@Example.COM ',
        phone: '+82 10-1234-5678',
        externalIds: [{ type: 'crm', id: 'C-1', collection: 'users' }],
      },
      context: { device: { id: 'dev-links' }, externalIds: [{ type: 'core-banking', id: 77 }] },
    });
    expect(first.customerCode).toMatch(/^C[0-9A-Z]{15}$/);
    expect(await identitiesOf(first.id)).toEqual([
      { type: 'anonymous_id', value: 'anon-links' },
      { type: 'device_id', value: 'dev-links' },
      { type: 'email', value: 'links@example.com' },
      expect.objectContaining({ type: 'external_key' }),
      expect.objectContaining({ type: 'external_key' }),
      { type: 'phone', value: '+821012345678' },
      { type: 'user_id', value: 'u-links' },
    ]);
    const keys = (await identitiesOf(first.id)).filter((i) => i.type === 'external_key').map((i) => i.value);
    expect(keys.sort()).toEqual(['core-banking:77', 'crm:C-1']);
    const again = await h.resolve({ traits: { phone: '+82 (10) 1234 5678' } });
    expect(again.id).toBe(first.id);
  });

  it('alias: previousId (anonymous) and userId customers become one, reason alias', async () => {
    const anonymous = await h.resolve({ anonymousId: 'anon-alias' });
    const known = await h.resolve({ userId: 'u-alias', traits: { email: 'alias@example.com' } });
    expect(anonymous.id).not.toBe(known.id);

    const result = await h.resolve({ type: 'alias', userId: 'u-alias', previousId: 'anon-alias' });
    expect(result.id).toBe(known.id);
    const merged = await h.prisma.customer.findUniqueOrThrow({ where: { id: anonymous.id } });
    expect(merged.mergedIntoId).toBe(known.id);
    expect((await identitiesOf(known.id)).map((i) => i.value)).toEqual(
      expect.arrayContaining(['anon-alias', 'u-alias', 'alias@example.com']),
    );
    const history = await h.prisma.customerMerge.findMany({ where: { mergedId: anonymous.id } });
    expect(history).toEqual([
      expect.objectContaining({ survivorId: known.id, reason: 'alias', announcedAt: null }),
    ]);
    // A look-up by the merged id answers with the survivor.
    expect(await h.merges.liveCustomerId(h.workspaceId, anonymous.id)).toBe(known.id);
    expect(await h.resolve({ anonymousId: 'anon-alias' })).toMatchObject({ id: known.id });
  });

  it('an alias whose previousId nobody has yet attaches it to the user as an anonymous id', async () => {
    const user = await h.resolve({ type: 'alias', userId: 'u-alias-new', previousId: 'anon-alias-new' });
    expect(await identitiesOf(user.id)).toEqual([
      { type: 'anonymous_id', value: 'anon-alias-new' },
      { type: 'user_id', value: 'u-alias-new' },
    ]);
  });

  it('shared identifier: a call carrying identifiers of two customers merges them; the newer traits win', async () => {
    const older = await h.resolve(
      { userId: 'u-shared', traits: { email: 'shared-a@example.com' } },
      new Date('2026-01-01T00:00:00Z'),
    );
    await h.prisma.customer.update({
      where: { id: older.id },
      data: { traits: { tier: 'gold', city: 'Seoul' } },
    });
    const newer = await h.resolve({ anonymousId: 'anon-shared', traits: { phone: '+821099990000' } });
    await h.prisma.customer.update({
      where: { id: newer.id },
      data: { traits: { city: 'Busan', lang: 'ko' } },
    });

    const result = await h.resolve({ anonymousId: 'anon-shared', traits: { email: 'shared-a@example.com' } });
    // email (priority 4) beats anonymous_id (7): the e-mail's customer survives.
    expect(result.id).toBe(older.id);
    const survivor = await h.prisma.customer.findUniqueOrThrow({ where: { id: older.id } });
    expect(survivor.traits).toEqual({ tier: 'gold', city: 'Busan', lang: 'ko' });
    expect(survivor.firstSeenAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const [merge] = await h.prisma.customerMerge.findMany({ where: { mergedId: newer.id } });
    expect(merge).toMatchObject({
      survivorId: older.id,
      reason: 'shared_identifier',
      identifierType: 'anonymous_id', // the identifier the call shared with the merged customer
    });
    expect(merge!.movedIdentityIds).toHaveLength(2);
  });

  it('a second user on a shared device becomes a customer of their own, not a refused identifier', async () => {
    const first = await h.resolve({ userId: 'u-shared-1', anonymousId: 'shared-browser' });
    const second = await h.resolve({ userId: 'u-shared-2', anonymousId: 'shared-browser' });
    expect(second.id).not.toBe(first.id);
    expect((await identitiesOf(second.id)).map((i) => `${i.type}:${i.value}`)).toEqual([
      'user_id:u-shared-2',
    ]);
    expect((await identitiesOf(first.id)).map((i) => i.type).sort()).toEqual(['anonymous_id', 'user_id']);
  });

  it('limits: two national IDs are never on one customer, and the refusal is recorded', async () => {
    const rawA = '900101-1234567';
    const rawB = '850505-2345678';
    const a = await h.resolve({ userId: 'u-nid-a', traits: { nationalId: rawA } });
    const b = await h.resolve({ userId: 'u-nid-b', context: { traits: { nationalId: rawB } } });
    expect(a.id).not.toBe(b.id);

    // One call sharing a's user id and b's national ID: merging would give a two national IDs.
    const result = await h.resolve({ userId: 'u-nid-a', traits: { nationalId: '850505 2345678' } });
    // Best match: national_id_hmac (priority 1) outranks user_id (2), so the call goes to b.
    expect(result.id).toBe(b.id);
    const nidsOf = async (id: string) =>
      (await identitiesOf(id)).filter((i) => i.type === 'national_id_hmac');
    expect(await nidsOf(a.id)).toHaveLength(1);
    expect(await nidsOf(b.id)).toHaveLength(1);
    for (const id of [a.id, b.id])
      expect(await h.prisma.customer.findUniqueOrThrow({ where: { id } })).toMatchObject({
        mergedIntoId: null,
      });
    expect(
      await h.prisma.identityConflict.findMany({ where: { otherCustomerId: { in: [a.id, b.id] } } }),
    ).toEqual([expect.objectContaining({ reason: 'limit', limitedType: 'national_id_hmac' })]);

    // The same refusal again is not recorded twice.
    await h.resolve({ userId: 'u-nid-a', traits: { nationalId: rawB } });
    expect(await h.prisma.identityConflict.count({ where: { otherCustomerId: { in: [a.id, b.id] } } })).toBe(
      1,
    );

    // A second, new national ID for a customer that has one is not attached either.
    await h.resolve({ userId: 'u-nid-a', traits: { nationalId: '700707-1111111' } });
    expect(await nidsOf(a.id)).toHaveLength(1);
    expect(
      await h.prisma.identityConflict.count({
        where: { customerId: a.id, otherCustomerId: null, limitedType: 'national_id_hmac' },
      }),
    ).toBe(1);
  });

  it('external keys are limited per system: a second crm key is refused, another system is accepted', async () => {
    const c = await h.resolve({ userId: 'u-ext', traits: { externalIds: [{ type: 'crm', id: 'X-1' }] } });
    await h.resolve({
      userId: 'u-ext',
      traits: {
        externalIds: [
          { type: 'crm', id: 'X-2' },
          { type: 'erp', id: 'E-9' },
        ],
      },
    });
    const keys = (await identitiesOf(c.id)).filter((i) => i.type === 'external_key').map((i) => i.value);
    expect(keys.sort()).toEqual(['crm:X-1', 'erp:E-9']);
  });

  it('never stores a national ID in clear: only the workspace-keyed HMAC, in no table', async () => {
    const raw = '881212-1999999';
    const call = {
      type: 'identify' as const,
      userId: 'u-raw',
      traits: { nationalId: raw, name: 'Kim' },
      context: { traits: { nationalId: raw }, locale: 'ko-KR' },
      properties: { nationalId: raw, name: 'Kim' },
    };
    const customer = await h.resolve(call);
    // What ingest stores: the call as stripNationalId returns it.
    const clean = stripNationalId(call);
    expect(clean).toEqual({
      type: 'identify',
      userId: 'u-raw',
      traits: { name: 'Kim' },
      context: { traits: {}, locale: 'ko-KR' },
      properties: { name: 'Kim' },
    });
    expect(call.traits.nationalId).toBe(raw); // the caller's object is not changed
    await h.prisma.customer.update({ where: { id: customer.id }, data: { traits: clean.traits } });
    const eventId = await h.addEvent(customer.id, call);
    await h.prisma.event.update({
      where: { id: eventId },
      data: { properties: clean.properties, context: clean.context },
    });
    const hash = h.identity.hashNationalId(h.workspaceId, raw);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toBe(h.identity.hashNationalId('another-workspace', raw));
    expect(await identitiesOf(customer.id)).toContainEqual({ type: 'national_id_hmac', value: hash });

    // Scan every row of every table of the database as text.
    const client = new Client({ connectionString: h.databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ t: string }>(
        `SELECT quote_ident(table_name) AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      expect(tables.rows.length).toBeGreaterThan(20);
      const needles = [raw, raw.replace('-', ''), TEST_NATIONAL_ID_SECRET];
      for (const { t } of tables.rows) {
        const hits = await client.query(
          `SELECT count(*)::int AS n FROM ${t} x WHERE ${needles.map((_, i) => `x::text LIKE $${i + 1}`).join(' OR ')}`,
          needles.map((n) => `%${n}%`),
        );
        expect({ table: t, hits: hits.rows[0].n }).toEqual({ table: t, hits: 0 });
      }
    } finally {
      await client.end();
    }
  });
});
