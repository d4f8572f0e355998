// The suppression list on the real local Postgres and NATS (own database and prefix): an erased
// person's identifiers are kept as keyed hashes, and their calls, whether still queued at the
// erasure or sent later, are acked but never stored, until the suppression is lifted.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { prismaSql } from '@cdp/db';
import { CustomerLookupHandler } from '../src/customers/customer-lookup.handler';
import { identifierLockKey } from '../src/identity/identifiers';
import { SuppressionService } from '../src/identity/suppressions.service';
import { IngestService } from '../src/ingest/ingest.service';
import { advisoryLocks } from '../src/merges/advisory-locks';
import { accepted, type Accepted } from './ingest-fixtures';
import { startIdentityHarness, type IdentityHarness } from './identity-support';

describe('suppression of erased people', () => {
  let h: IdentityHarness;
  let ingest: IngestService;

  beforeAll(async () => {
    h = await startIdentityHarness('suppression');
    ingest = h.app.get(IngestService);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (extra: Partial<Accepted>) =>
    accepted(
      { workspaceId: h.workspaceId, sourceId: h.sourceId } as Parameters<typeof accepted>[0],
      randomUUID(),
      {
        userId: undefined,
        ...extra,
      },
    );
  const stored = (calls: Accepted[]) =>
    h.prisma.event.count({ where: { messageId: { in: calls.map((c) => c.messageId) } } });
  const customers = () => h.prisma.customer.count({ where: { workspaceId: h.workspaceId } });

  /** A person with a user id, an anonymous id and an email, stored the way ingest stores them. */
  async function person(tag: string) {
    const first = call({
      type: 'identify',
      userId: `u-${tag}`,
      anonymousId: `anon-${tag}`,
      traits: { email: `${tag}@example.com` },
    });
    await ingest.storeBatch([first]);
    return h.prisma.event.findFirstOrThrow({
      where: { messageId: first.messageId },
      include: { customer: true },
    });
  }

  it('drops every later call that carries one of the erased identifiers, and stores everyone else', async () => {
    const { customer } = await person('gone');
    const erased = await h.request('DELETE', `/v1/customers/${customer!.id}`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ deleted: { identities: 3 }, suppressed: 3 });

    // Kept as keyed hashes with the type and the tombstone's code: never the values.
    const rows = await h.prisma.suppressedIdentifier.findMany({
      where: { customerCode: customer!.customerCode },
    });
    expect(rows.map((r) => r.type).sort()).toEqual(['anonymous_id', 'email', 'user_id']);
    expect(JSON.stringify(rows)).not.toMatch(/u-gone|anon-gone|gone@example/);

    const before = await customers();
    const dropped = [
      call({ userId: 'u-gone' }),
      // A new device, but the same email in context.traits.
      call({ anonymousId: 'anon-new-device', context: { traits: { email: 'Gone@Example.com' } } }),
      // An alias whose previousId is the erased anonymous id.
      call({ type: 'alias', userId: 'u-someone-new', previousId: 'anon-gone' }),
    ];
    const bystander = call({ userId: 'u-bystander' });
    await ingest.storeBatch([...dropped, bystander]);
    expect(await stored(dropped)).toBe(0);
    expect(await stored([bystander])).toBe(1);
    expect(await customers()).toBe(before + 1);
    expect(
      await h.prisma.identity.count({ where: { value: { in: ['anon-new-device', 'u-someone-new'] } } }),
    ).toBe(0);
    // A redelivery is dropped again, not stored.
    await ingest.storeBatch(dropped);
    expect(await stored(dropped)).toBe(0);
    const metrics = (await h.app.getHttpAdapter().getInstance().inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^collection_suppressed_calls_total(\{[^}]*\})? 6$/m);
  });

  it('drops a call that was waiting for the identifier locks while the erasure suppressed it', async () => {
    const { customer } = await person('racing');
    const queued = call({ userId: 'u-racing', event: 'Queued Before The Erasure' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    // The erasure's order: identifier locks, then the suppression rows, then the commit.
    const erasure = h.prisma.$transaction(
      async (tx) => {
        await advisoryLocks(prismaSql(tx), [identifierLockKey(h.workspaceId, 'user_id', 'u-racing')]);
        await h.app
          .get(SuppressionService)
          .suppressIn(
            prismaSql(tx),
            h.workspaceId,
            [{ type: 'user_id', value: 'u-racing' }],
            customer!.customerCode,
            'test',
          );
        locked();
        await gate;
      },
      { timeout: 30_000 },
    );
    await holding;
    let done = false;
    const storing = ingest.storeBatch([queued]).finally(() => (done = true));
    await sleep(300);
    // Waiting for the lock: had it checked the list before locking, it would store the call now.
    expect(done).toBe(false);
    release();
    await erasure;
    await storing;
    expect(await stored([queued])).toBe(0);
  });

  it('lists suppressions by customer code and lifts them, audited; the person is then collected as new', async () => {
    const { customer } = await person('back');
    expect((await h.request('DELETE', `/v1/customers/${customer!.id}`)).status).toBe(200);

    const listed = await h.request('GET', `/v1/suppressions?customerCode=${customer!.customerCode}&limit=2`);
    expect(listed.status).toBe(200);
    expect(listed.body.suppressions).toHaveLength(2);
    expect(listed.body.suppressions[0]).toEqual({
      id: expect.any(String),
      type: expect.any(String),
      customerCode: customer!.customerCode,
      actor: expect.stringMatching(/^api_key:/),
      createdAt: expect.any(String),
    });
    const rest = await h.request(
      'GET',
      `/v1/suppressions?customerCode=${customer!.customerCode}&limit=2&cursor=${listed.body.nextCursor}`,
    );
    expect(rest.body.suppressions).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();

    // One by id, then the rest of the person.
    const one = await h.request('DELETE', `/v1/suppressions/${rest.body.suppressions[0].id}`);
    expect(one).toEqual({ status: 200, body: { lifted: 1 } });
    const all = await h.request('DELETE', `/v1/suppressions?customerCode=${customer!.customerCode}`);
    expect(all).toEqual({ status: 200, body: { lifted: 2 } });
    expect(
      (await h.request('DELETE', `/v1/suppressions?customerCode=${customer!.customerCode}`)).status,
    ).toBe(404);
    expect(
      await h.prisma.auditLog.count({
        where: {
          action: 'suppression.lifted',
          entityId: { in: [customer!.customerCode, rest.body.suppressions[0].id] },
        },
      }),
    ).toBe(2);

    const returning = call({ userId: 'u-back' });
    await ingest.storeBatch([returning]);
    const event = await h.prisma.event.findFirstOrThrow({ where: { messageId: returning.messageId } });
    expect(event.customerId).not.toBe(customer!.id);
  });

  it('erases without suppressing on ?suppress=false: the next call makes a new customer', async () => {
    const { customer } = await person('unsuppressed');
    const bad = await h.request('DELETE', `/v1/customers/${customer!.id}?suppress=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ path: '/suppress', reason: 'one of true, false' }]);
    const erased = await h.request('DELETE', `/v1/customers/${customer!.id}?suppress=false`);
    expect(erased.status).toBe(200);
    expect(erased.body.suppressed).toBe(0);
    const next = call({ userId: 'u-unsuppressed' });
    await ingest.storeBatch([next]);
    expect(await stored([next])).toBe(1);
  });

  it('suppresses a live customer without erasing them (POST /v1/suppressions), until lifted', async () => {
    const { customer } = await person('paused');
    const suppressed = await h.request('POST', '/v1/suppressions', { customerId: customer!.id });
    expect(suppressed).toEqual({
      status: 201,
      body: { customerId: customer!.id, customerCode: customer!.customerCode, suppressed: 3 },
    });
    // Nothing erased: the profile and its history stay.
    expect(await h.prisma.customer.findUniqueOrThrow({ where: { id: customer!.id } })).toMatchObject({
      erasedAt: null,
      email: 'paused@example.com',
    });
    expect(await h.prisma.identity.count({ where: { customerId: customer!.id } })).toBe(3);
    const dropped = call({ userId: 'u-paused', event: 'While Paused' });
    await ingest.storeBatch([dropped]);
    expect(await stored([dropped])).toBe(0);
    expect(
      await h.prisma.auditLog.count({ where: { action: 'customer.suppressed', entityId: customer!.id } }),
    ).toBe(1);

    // Other services learn of it from cdp.customer.restricted (the outbox row, announced)...
    const changes = () =>
      h.prisma.customerRestriction.findMany({
        where: { customerId: customer!.id },
        select: { restricted: true, announcedAt: true },
        orderBy: { changedAt: 'asc' },
      });
    expect(await changes()).toEqual([{ restricted: true, announcedAt: expect.any(Date) }]);
    // ...and from the customer look-up: no sends, no ad audiences.
    const lookup = h.app.get(CustomerLookupHandler);
    const lookedUp = () => lookup.lookup({ workspaceId: h.workspaceId, customerId: customer!.id });
    expect(await lookedUp()).toMatchObject({ found: true, customer: { restricted: true } });

    expect(
      (await h.request('DELETE', `/v1/suppressions?customerCode=${customer!.customerCode}`)).body,
    ).toEqual({ lifted: 3 });
    expect(await lookedUp()).toMatchObject({ found: true, customer: { restricted: false } });
    expect((await changes()).map((c) => c.restricted)).toEqual([true, false]);
    const resumed = call({ userId: 'u-paused', event: 'After The Pause' });
    await ingest.storeBatch([resumed]);
    const event = await h.prisma.event.findFirstOrThrow({ where: { messageId: resumed.messageId } });
    // The same customer again: nothing was erased.
    expect(event.customerId).toBe(customer!.id);

    const bad = await h.request('POST', '/v1/suppressions', { customerId: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: '/customerId' })]);
    expect((await h.request('POST', '/v1/suppressions', { customerId: randomUUID() })).status).toBe(404);
    const { customer: gone } = await person('gone-before');
    expect((await h.request('DELETE', `/v1/customers/${gone!.id}`)).status).toBe(200);
    expect((await h.request('POST', '/v1/suppressions', { customerId: gone!.id })).status).toBe(410);
  });

  it('also suppresses an identifier linked by a batch that held the customer’s lock while suppressing began', async () => {
    const { customer } = await person('linking');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    // A batch matched the customer by their user id and links a second email, as ingest would.
    const batch = h.prisma.$transaction(
      async (tx) => {
        await advisoryLocks(prismaSql(tx), [identifierLockKey(h.workspaceId, 'user_id', 'u-linking')]);
        await tx.identity.create({
          data: {
            workspaceId: h.workspaceId,
            customerId: customer!.id,
            type: 'email',
            value: 'work@example.com',
          },
        });
        locked();
        await gate;
      },
      { timeout: 30_000 },
    );
    await holding;
    let answered = false;
    const suppressing = h
      .request('POST', '/v1/suppressions', { customerId: customer!.id })
      .finally(() => (answered = true));
    await sleep(300);
    expect(answered).toBe(false); // waiting for the batch's lock
    release();
    await batch;
    expect(await suppressing).toMatchObject({ status: 201, body: { suppressed: 4 } });
    const byNewEmail = call({
      anonymousId: 'anon-linking-2',
      context: { traits: { email: 'work@example.com' } },
    });
    await ingest.storeBatch([byNewEmail]);
    expect(await stored([byNewEmail])).toBe(0);
  });

  it('answers 400 for bad queries, 404 for an unknown suppression, 403 without the governance scopes', async () => {
    const noCode = await h.request('DELETE', '/v1/suppressions');
    expect(noCode.status).toBe(400);
    expect(noCode.body.issues).toEqual([expect.objectContaining({ path: '/customerCode' })]);
    expect((await h.request('GET', '/v1/suppressions?limit=0')).body.issues).toEqual([
      expect.objectContaining({ path: '/limit' }),
    ]);
    expect((await h.request('GET', '/v1/suppressions?cursor=nope')).status).toBe(400);
    expect((await h.request('DELETE', '/v1/suppressions/not-a-uuid')).status).toBe(400);
    expect((await h.request('DELETE', `/v1/suppressions/${randomUUID()}`)).status).toBe(404);

    const key = await h.request('POST', '/v1/api-keys', { name: 'auditor', scopes: ['governance:read'] });
    expect(key.status).toBe(201);
    expect((await h.request('GET', '/v1/suppressions', undefined, key.body.key)).status).toBe(200);
    expect(
      (await h.request('DELETE', '/v1/suppressions?customerCode=C1', undefined, key.body.key)).status,
    ).toBe(403);
  });
});
