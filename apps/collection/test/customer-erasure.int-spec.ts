// Right to erasure on the real local Postgres and NATS (own database and prefix): a customer and
// the profiles merged into it lose their personal data, the rows stay as tombstones, the erasure
// is announced once, and nothing attaches to the tombstone afterwards.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsentsService } from '../src/consents/consents.service';
import { lockAttachableCustomer } from '../src/customers/attachable-customer';
import { ErasureAnnouncer } from '../src/customers/erasure-announcer';
import { Queue } from 'bullmq';
import { queueOptions, SERVICE_CONFIG, type BaseConfig } from '@cdp/service-kit';
import {
  DISPOSAL_ACTOR,
  DISPOSAL_QUEUE,
  DISPOSE_CUSTOMERS,
  DisposalService,
} from '../src/governance/disposal.service';
import { startIdentityHarness, type IdentityHarness } from './identity-support';

describe('customer erasure (DELETE /v1/customers/:id)', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await startIdentityHarness('erasure');
  });
  afterAll(async () => {
    await h?.close();
  });

  const count = async (customerIds: string[]) => ({
    identities: await h.prisma.identity.count({ where: { customerId: { in: customerIds } } }),
    events: await h.prisma.event.count({ where: { customerId: { in: customerIds } } }),
    consents: await h.prisma.consent.count({ where: { customerId: { in: customerIds } } }),
    deviceTokens: await h.prisma.deviceToken.count({ where: { customerId: { in: customerIds } } }),
  });

  it('erases the person an id stands for, keeps tombstones, announces it once and refuses to unmerge it', async () => {
    const survivor = await h.resolve({ userId: 'u-erase', traits: { email: 'erase.me@example.com' } });
    await h.prisma.customer.update({
      where: { id: survivor.id },
      data: { traits: { firstName: 'Erin', plan: 'gold' }, phone: '+821012345678', locale: 'ko-KR' },
    });
    const merged = await h.resolve({
      anonymousId: 'anon-erase',
      traits: { email: 'other.erase@example.com' },
    });
    await h.prisma.customer.update({ where: { id: merged.id }, data: { traits: { city: 'Busan' } } });
    const bystander = await h.resolve({ userId: 'u-stays', traits: { email: 'stays@example.com' } });
    const messageIds = [randomUUID(), randomUUID()];
    await h.addEvent(survivor.id, { userId: 'u-erase', messageId: messageIds[0] });
    await h.addEvent(merged.id, { anonymousId: 'anon-erase', messageId: messageIds[1] });
    const kept = await h.addEvent(bystander.id, { userId: 'u-stays' });
    for (const [i, messageId] of messageIds.entries())
      await h.prisma.eventMessageId.create({
        data: { workspaceId: h.workspaceId, messageId, eventId: BigInt(i + 1) * -1n },
      });
    await h.prisma.consent.create({
      data: {
        workspaceId: h.workspaceId,
        customerId: merged.id,
        purpose: 'marketing',
        channel: 'email',
        status: 'granted',
        source: 'test',
      },
    });
    await h.prisma.deviceToken.create({
      data: {
        workspaceId: h.workspaceId,
        customerId: survivor.id,
        platform: 'android',
        provider: 'fcm',
        token: 'fcm-token-erase',
      },
    });
    // One call with both identifiers merges the anonymous profile into the identified one.
    expect((await h.resolve({ userId: 'u-erase', anonymousId: 'anon-erase' })).id).toBe(survivor.id);
    const [merge] = await h.prisma.customerMerge.findMany({ where: { mergedId: merged.id } });
    expect(merge!.survivorChanges).not.toEqual({});

    // The merged profile's id stands for the person: the survivor and everything merged into it go.
    const erased = await h.request('DELETE', `/v1/customers/${merged.id}`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      workspaceId: h.workspaceId,
      customerId: survivor.id,
      customerCode: survivor.customerCode,
      erasedAt: expect.any(String),
      deleted: { identities: 4, events: 2, event_message_ids: 2, consents: 1, device_tokens: 1 },
      suppressed: 4,
    });
    expect([...erased.body.erasedIds].sort()).toEqual([survivor.id, merged.id].sort());

    expect(await count([survivor.id, merged.id])).toEqual({
      identities: 0,
      events: 0,
      consents: 0,
      deviceTokens: 0,
    });
    const tombstones = await h.prisma.customer.findMany({ where: { id: { in: [survivor.id, merged.id] } } });
    expect(tombstones).toHaveLength(2);
    for (const row of tombstones)
      expect(row).toMatchObject({
        erasedAt: new Date(erased.body.erasedAt),
        email: null,
        phone: null,
        locale: null,
        traits: {},
        traitTimestamps: {},
      });
    expect(
      (await h.prisma.customerMerge.findUniqueOrThrow({ where: { id: merge!.id } })).survivorChanges,
    ).toEqual({});
    const audit = await h.prisma.auditLog.findMany({ where: { action: 'customer.erased' } });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toMatch(/erase\.me|Erin|Busan|\+8210/);
    // Somebody else's data is untouched.
    expect(await count([bystander.id])).toEqual({ identities: 2, events: 1, consents: 0, deviceTokens: 0 });
    expect(await h.prisma.event.findUnique({ where: { id: kept } })).not.toBeNull();

    // Look-ups: by id 410 with when, by a former identifier not found.
    const gone = await h.request('GET', `/v1/customers/${survivor.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ customerId: survivor.id, erasedAt: erased.body.erasedAt });
    expect((await h.request('GET', `/v1/customers/${merged.id}`)).status).toBe(410);
    expect(
      (await h.request('GET', '/v1/customers?identifierType=email&identifierValue=erase.me@example.com'))
        .status,
    ).toBe(404);

    // Again: the same answer, nothing more deleted, the announcement deduplicated by its message id.
    const again = await h.request('DELETE', `/v1/customers/${survivor.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ customerId: survivor.id, erasedAt: erased.body.erasedAt });
    expect(Object.values(again.body.deleted).every((n) => n === 0)).toBe(true);
    const announced = { [`${h.prefix}.cdp.customer.erased.${h.workspaceId}`]: 1 };
    expect(await h.identitySubjects('cdp.customer.erased.>')).toEqual(announced);
    // The announcement comes from an outbox row written with the erasure; a relay that crashed
    // between publishing and marking it publishes again with the same message id (a duplicate).
    const outbox = await h.prisma.customerErasure.findMany({ where: { customerId: survivor.id } });
    expect(outbox).toEqual([
      expect.objectContaining({
        customerCode: survivor.customerCode,
        actor: expect.stringMatching(/^api_key:/),
        erasedAt: new Date(erased.body.erasedAt),
        announcedAt: expect.any(Date),
      }),
    ]);
    expect([...outbox[0]!.erasedIds].sort()).toEqual([survivor.id, merged.id].sort());
    await h.prisma.customerErasure.update({ where: { id: outbox[0]!.id }, data: { announcedAt: null } });
    expect(await h.app.get(ErasureAnnouncer).announcePending()).toBe(1);
    expect(await h.identitySubjects('cdp.customer.erased.>')).toEqual(announced);

    const unmerge = await h.request('POST', `/v1/merges/${merge!.id}/unmerge`);
    expect(unmerge.status).toBe(409);
    expect(unmerge.body.message).toMatch(/erased/);

    // Nothing attaches to the tombstone: a consent change is ignored, a device cannot be registered
    // (the person's next calls are suppressed: suppression.int-spec.ts).
    const consents = h.app.get(ConsentsService);
    expect(
      await consents.record({
        workspaceId: h.workspaceId,
        customerId: survivor.id,
        purpose: 'marketing',
        channel: 'sms',
        status: 'granted',
        source: 'test',
        at: new Date().toISOString(),
      }),
    ).toBe('unknown-customer');
    const device = await h.request('POST', `/v1/customers/${survivor.id}/device-tokens`, {
      token: 'fcm-token-after',
      platform: 'android',
      provider: 'fcm',
    });
    expect(device.status).toBe(404);
  });

  it('waits for a writer attaching rows to the customer, then erases what it wrote', async () => {
    const customer = await h.resolve({ userId: 'u-race' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    // A writer as operational data and device registration run: lock, then write, then commit.
    const writer = h.prisma.$transaction(async (tx) => {
      expect(await lockAttachableCustomer(tx, h.workspaceId, customer.id)).toBe(true);
      locked();
      await gate;
      await tx.deviceToken.create({
        data: {
          workspaceId: h.workspaceId,
          customerId: customer.id,
          platform: 'ios',
          provider: 'apns',
          token: 'apns-token-race',
        },
      });
    });
    await holding;
    let answered = false;
    const erasure = h.request('DELETE', `/v1/customers/${customer.id}`).finally(() => (answered = true));
    await sleep(300);
    expect(answered).toBe(false);
    release();
    await writer;
    const erased = await erasure;
    expect(erased.status).toBe(200);
    expect(erased.body.deleted).toMatchObject({ identities: 1, device_tokens: 1 });
    expect(await h.prisma.deviceToken.count({ where: { customerId: customer.id } })).toBe(0);
    // And a writer after the erasure finds nothing to attach to.
    await h.prisma.$transaction(async (tx) =>
      expect(await lockAttachableCustomer(tx, h.workspaceId, customer.id)).toBe(false),
    );
  });

  it('disposes of customers whose retention has ended, every hour, as an erasure would', async () => {
    const due = await h.resolve({ userId: 'u-due', traits: { email: 'due@example.com' } });
    const later = await h.resolve({ userId: 'u-later' });
    const now = new Date('2030-01-01T00:00:00Z');
    const setRetention = (id: string, body: unknown) =>
      h.request('PUT', `/v1/customers/${id}/retention`, body);
    expect(await setRetention(due.id, { expiresAt: '2029-12-31T00:00:00Z' })).toEqual({
      status: 200,
      body: { customerId: due.id, retentionExpiresAt: '2029-12-31T00:00:00.000Z' },
    });
    expect((await setRetention(later.id, { expiresAt: '2030-06-01T00:00:00Z' })).status).toBe(200);
    const bad = await setRetention(later.id, { expiresAt: 'next year' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: '/expiresAt' })]);
    expect((await setRetention(randomUUID(), { expiresAt: null })).status).toBe(404);

    const disposal = h.app.get(DisposalService);
    expect(await disposal.disposeDue(now)).toBe(1);
    expect(await h.prisma.customer.findUniqueOrThrow({ where: { id: due.id } })).toMatchObject({
      erasedAt: expect.any(Date),
      email: null,
      traits: {},
    });
    expect(await h.prisma.identity.count({ where: { customerId: due.id } })).toBe(0);
    expect(await h.prisma.customerErasure.findMany({ where: { customerId: due.id } })).toEqual([
      expect.objectContaining({ actor: DISPOSAL_ACTOR }),
    ]);
    expect(await h.prisma.customer.findUniqueOrThrow({ where: { id: later.id } })).toMatchObject({
      erasedAt: null,
    });
    expect(await disposal.disposeDue(now)).toBe(0);
    expect((await setRetention(due.id, { expiresAt: null })).status).toBe(410);

    const queue = new Queue(DISPOSAL_QUEUE, queueOptions(h.app.get<BaseConfig>(SERVICE_CONFIG)));
    try {
      expect((await queue.getJobSchedulers()).map((j) => [j.key, j.every])).toEqual([
        [DISPOSE_CUSTOMERS, 3_600_000],
      ]);
    } finally {
      await queue.close();
    }
  });

  it("disposes of customers not seen for the workspace's inactivity period, unless a contract or a date keeps them", async () => {
    // The customers of the tests before were seen today: only the ones seen two years ago are idle.
    const now = new Date();
    const longAgo = new Date(now.getTime() - 730 * 86_400_000);
    const idle = await h.resolve({ userId: 'u-idle', traits: { email: 'idle@example.com' } }, longAgo);
    const contracted = await h.resolve({ userId: 'u-idle-contract' }, longAgo);
    const dated = await h.resolve({ userId: 'u-idle-dated' }, longAgo);
    const recent = await h.resolve({ userId: 'u-recent' }, new Date(now.getTime() - 30 * 86_400_000));
    await h.prisma.contract.create({
      data: {
        workspaceId: h.workspaceId,
        customerId: contracted.id,
        sourceSystem: 'core-banking',
        externalRef: 'acc-idle-1',
        productCode: 'TD-12',
        productType: 'deposit',
        productName: 'Term deposit',
        status: 'active',
        openedAt: longAgo,
      },
    });
    expect(
      (await h.request('PUT', `/v1/customers/${dated.id}/retention`, { expiresAt: '2040-01-01T00:00:00Z' }))
        .status,
    ).toBe(200);

    const disposal = h.app.get(DisposalService);
    // Off by default.
    expect(await disposal.disposeDue(now)).toBe(0);
    expect((await h.request('PUT', '/v1/retention', { inactiveCustomerRetentionDays: 365 })).status).toBe(
      200,
    );
    expect(await disposal.disposeDue(now)).toBe(1);
    const erased = await h.prisma.customer.findMany({
      where: { id: { in: [idle.id, contracted.id, dated.id, recent.id] }, erasedAt: { not: null } },
    });
    expect(erased.map((c) => c.id)).toEqual([idle.id]);
    expect(await h.prisma.customerErasure.findMany({ where: { customerId: idle.id } })).toEqual([
      expect.objectContaining({ actor: DISPOSAL_ACTOR }),
    ]);
    // Not suppressed: the person who comes back is collected again.
    expect(await h.prisma.suppressedIdentifier.count({ where: { customerCode: idle.customerCode } })).toBe(0);
    expect(await disposal.disposeDue(now)).toBe(0);
    await h.request('PUT', '/v1/retention', { inactiveCustomerRetentionDays: 0 });
  });

  it('answers 400 for an id that is not a UUID, 404 for an unknown one, 403 without the erase scope', async () => {
    const bad = await h.request('DELETE', '/v1/customers/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ path: '/id', reason: 'a UUID' }]);
    expect((await h.request('DELETE', `/v1/customers/${randomUUID()}`)).status).toBe(404);

    const customer = await h.resolve({ userId: 'u-keep' });
    const key = await h.request('POST', '/v1/api-keys', {
      name: 'support desk',
      scopes: ['customers:read', 'customers:write'],
    });
    expect(key.status).toBe(201);
    const refused = await h.request('DELETE', `/v1/customers/${customer.id}`, undefined, key.body.key);
    expect(refused.status).toBe(403);
    expect(await h.prisma.identity.count({ where: { customerId: customer.id } })).toBe(1);
  });
});
