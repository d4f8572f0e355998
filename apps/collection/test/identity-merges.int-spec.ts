import { startIdentityHarness, type IdentityHarness } from './identity-support';

describe('identity merges: unmerge, history, outbox, rules REST and preview', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await startIdentityHarness('merges');
  });
  afterAll(async () => {
    await h?.close();
  });

  const customerOf = (id: string) => h.prisma.customer.findUniqueOrThrow({ where: { id } });
  const identityValues = async (customerId: string) =>
    (await h.prisma.identity.findMany({ where: { customerId } })).map((i) => i.value).sort();
  const eventIds = async (customerId: string) =>
    (await h.prisma.event.findMany({ where: { customerId }, orderBy: { id: 'asc' } })).map((e) => e.id);

  it('unmerge restores the split customer with its identities, rows and later events, and reverts traits', async () => {
    const survivor = await h.resolve(
      { userId: 'u-s', anonymousId: 'anon-s' },
      new Date('2026-02-01T00:00:00Z'),
    );
    const split = await h.resolve({ anonymousId: 'anon-x', traits: { email: 'x@example.com' } });
    await h.prisma.customer.update({ where: { id: split.id }, data: { traits: { plan: 'pro' } } });
    const e1 = await h.addEvent(survivor.id, { userId: 'u-s' });
    const e2 = await h.addEvent(split.id, { anonymousId: 'anon-x' });
    const e3 = await h.addEvent(split.id, { anonymousId: 'anon-x' });
    const consent = (customerId: string, channel: 'email' | 'sms', status: 'granted' | 'withdrawn') =>
      h.prisma.consent.create({
        data: {
          workspaceId: h.workspaceId,
          customerId,
          purpose: 'marketing',
          channel,
          status,
          source: `test:${status}`,
        },
      });
    await consent(split.id, 'email', 'granted');
    // Both have an SMS consent; the split customer's later withdrawal must hold for the merged person.
    const survivorSms = await consent(survivor.id, 'sms', 'granted');
    await consent(split.id, 'sms', 'withdrawn');

    expect((await h.resolve({ userId: 'u-s', anonymousId: 'anon-x' })).id).toBe(survivor.id);
    expect(await eventIds(survivor.id)).toEqual([e1, e2, e3]);
    expect(await h.prisma.consent.count({ where: { customerId: survivor.id } })).toBe(2);
    expect(await h.prisma.consent.findUniqueOrThrow({ where: { id: survivorSms.id } })).toMatchObject({
      customerId: survivor.id,
      status: 'withdrawn',
    });
    expect((await customerOf(survivor.id)).traits).toEqual({ plan: 'pro' });
    const e4 = await h.addEvent(survivor.id, { anonymousId: 'anon-x' }); // after the merge, split's identifier
    const e5 = await h.addEvent(survivor.id, { userId: 'u-s' }); // after the merge, survivor's only
    const e6 = await h.addEvent(survivor.id, { userId: 'u-s', anonymousId: 'anon-x' }); // user id outranks

    const history = await h.request('GET', `/v1/customers/${split.id}/merges`);
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(1);
    const mergeId: string = history.body.items[0].id;
    expect(history.body.items[0]).toMatchObject({
      survivorId: survivor.id,
      mergedId: split.id,
      unmergedAt: null,
    });

    const undone = await h.request('POST', `/v1/merges/${mergeId}/unmerge`);
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({ id: mergeId, unmergedBy: expect.stringMatching(/^api_key:/) });

    expect(await customerOf(split.id)).toMatchObject({ mergedIntoId: null, mergedAt: null });
    expect(await identityValues(split.id)).toEqual(['anon-x', 'x@example.com']);
    expect(await identityValues(survivor.id)).toEqual(['anon-s', 'u-s']);
    expect(await eventIds(split.id)).toEqual([e2, e3, e4]);
    expect(await eventIds(survivor.id)).toEqual([e1, e5, e6]);
    expect(await h.prisma.consent.count({ where: { customerId: split.id } })).toBe(2);
    expect(await h.prisma.consent.findUniqueOrThrow({ where: { id: survivorSms.id } })).toMatchObject({
      customerId: survivor.id,
      status: 'granted',
      source: 'test:granted',
    });
    expect((await customerOf(survivor.id)).traits).toEqual({});
    expect((await customerOf(split.id)).traits).toEqual({ plan: 'pro' });
    // Subscribers learn each profile the merge and the unmerge changed, as it stands now.
    await h.announcer.announcePending();
    const profiles = (await h.profileUpdates()).filter((u) => u.msgId.endsWith(`merge:${mergeId}`));
    expect(profiles.map((u) => [u.msgId, u.changedTraits])).toEqual([
      [`profile:${survivor.id}:merge:${mergeId}`, ['plan']],
      [`profile:${survivor.id}:unmerge:${mergeId}`, ['plan']],
      [`profile:${split.id}:unmerge:${mergeId}`, ['plan']],
    ]);
    expect(profiles.slice(1).map((u) => u.traits)).toEqual([{}, { plan: 'pro' }]);
    // Later calls resolve to the restored customer again.
    expect((await h.resolve({ anonymousId: 'anon-x' })).id).toBe(split.id);

    expect((await h.request('POST', `/v1/merges/${mergeId}/unmerge`)).status).toBe(409);
    expect((await h.request('POST', `/v1/merges/not-a-uuid/unmerge`)).body.issues).toEqual([
      { path: '/id', reason: 'a UUID' },
    ]);
    expect((await h.request('POST', `/v1/merges/00000000-0000-4000-8000-000000000000/unmerge`)).status).toBe(
      404,
    );
  });

  it('refuses to undo a merge whose survivor was merged again since', async () => {
    const a = await h.resolve({ anonymousId: 'anon-chain-a' });
    const b = await h.resolve({ traits: { email: 'chain-b@example.com' } });
    const c = await h.resolve({ userId: 'u-chain-c' });
    await h.resolve({ anonymousId: 'anon-chain-a', traits: { email: 'chain-b@example.com' } }); // a -> b
    await h.resolve({ userId: 'u-chain-c', traits: { email: 'chain-b@example.com' } }); // b -> c
    expect((await customerOf(b.id)).mergedIntoId).toBe(c.id);
    expect(await h.merges.liveCustomerId(h.workspaceId, a.id)).toBe(c.id);
    const first = await h.prisma.customerMerge.findFirstOrThrow({ where: { mergedId: a.id } });
    expect((await h.request('POST', `/v1/merges/${first.id}/unmerge`)).status).toBe(409);
    const second = await h.prisma.customerMerge.findFirstOrThrow({ where: { mergedId: b.id } });
    expect((await h.request('POST', `/v1/merges/${second.id}/unmerge`)).status).toBe(200);
    // b comes back with a still merged into it.
    expect(await identityValues(b.id)).toEqual(['anon-chain-a', 'chain-b@example.com']);
    expect((await h.request('POST', `/v1/merges/${first.id}/unmerge`)).status).toBe(200);
    expect(await identityValues(a.id)).toEqual(['anon-chain-a']);
  });

  it('announces a merge exactly once on the prefixed subject, even when the relay runs twice or re-publishes', async () => {
    await h.resolve({ userId: 'u-outbox' });
    await h.resolve({ anonymousId: 'anon-outbox' });
    await h.resolve({ userId: 'u-outbox', anonymousId: 'anon-outbox' });
    const merge = await h.prisma.customerMerge.findFirstOrThrow({
      where: { reason: 'shared_identifier', identifierType: 'anonymous_id', unmergedAt: null },
      orderBy: { mergedAt: 'desc' },
    });
    await Promise.all([h.announcer.announcePending(), h.announcer.announcePending()]);
    await h.announcer.announcePending();
    expect(
      (await h.prisma.customerMerge.findUniqueOrThrow({ where: { id: merge.id } })).announcedAt,
    ).not.toBeNull();
    // A relay that crashed after publishing and before committing publishes again: same msgId.
    await h.prisma.customerMerge.update({ where: { id: merge.id }, data: { announcedAt: null } });
    await h.announcer.announcePending();

    const subjects = await h.identitySubjects();
    const merged = `${h.prefix}.cdp.identity.merged.${h.workspaceId}`;
    const unmerged = `${h.prefix}.cdp.identity.unmerged.${h.workspaceId}`;
    const merges = await h.prisma.customerMerge.count();
    const unmerges = await h.prisma.customerMerge.count({ where: { unmergedAt: { not: null } } });
    expect(await h.prisma.customerMerge.count({ where: { announcedAt: null } })).toBe(0);
    expect(merges).toBeGreaterThan(1);
    expect(unmerges).toBeGreaterThan(0);
    expect(subjects).toEqual({ [merged]: merges, [unmerged]: unmerges });
    // Each followed by the changed profiles (the survivor; on an unmerge both), once as well.
    const profiles = (await h.profileUpdates()).filter((u) => /:(un)?merge:/.test(u.msgId));
    expect(profiles).toHaveLength(merges + 2 * unmerges);
    expect(new Set(profiles.map((u) => u.msgId)).size).toBe(profiles.length);
  });

  it('rules REST: defaults, validation with field paths, preview without changes, replace', async () => {
    const defaults = await h.request('GET', '/v1/identity/rules');
    expect(defaults.status).toBe(200);
    expect(defaults.body.rules).toContainEqual({
      type: 'national_id_hmac',
      maxPerCustomer: 1,
      priority: 1,
      mergeable: true,
    });

    const bad = await h.request('PUT', '/v1/identity/rules', {
      rules: [{ type: 'email', maxPerCustomer: 0, priority: 1, mergeable: true }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toContainEqual(expect.objectContaining({ path: '/rules/0/maxPerCustomer' }));
    const duplicate = await h.request('PUT', '/v1/identity/rules', {
      rules: [
        { type: 'email', maxPerCustomer: 1, priority: 1, mergeable: true },
        { type: 'email', maxPerCustomer: 2, priority: 2, mergeable: true },
      ],
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.issues).toEqual([
      { path: '/rules/1/type', reason: 'duplicate rule for type email' },
    ]);

    // Two pairs of customers the user_id limit kept apart.
    const pairs: Array<[string, string]> = [];
    for (const n of [1, 2]) {
      const a = await h.resolve({ userId: `u-pre-a${n}` });
      const b = await h.resolve({ userId: `u-pre-b${n}`, anonymousId: `anon-pre-b${n}` });
      expect((await h.resolve({ userId: `u-pre-a${n}`, anonymousId: `anon-pre-b${n}` })).id).toBe(a.id);
      pairs.push([a.id, b.id].sort() as [string, string]);
    }
    const mergesBefore = await h.prisma.customerMerge.count();
    const rules = defaults.body.rules.map((r: { type: string }) =>
      r.type === 'user_id' ? { ...r, maxPerCustomer: 2 } : r,
    );

    const none = await h.request('POST', '/v1/identity/rules/preview', { rules: defaults.body.rules });
    expect(none).toEqual({ status: 200, body: { items: [], nextCursor: null } });
    const page1 = await h.request('POST', '/v1/identity/rules/preview', { rules, limit: 1 });
    expect(page1.status).toBe(200);
    const page2 = await h.request('POST', '/v1/identity/rules/preview', {
      rules,
      limit: 1,
      cursor: page1.body.nextCursor,
    });
    const listed = [...page1.body.items, ...page2.body.items];
    expect(listed.map((i: { customerIds: string[] }) => i.customerIds).sort()).toEqual(pairs.sort());
    expect(listed[0].linkTypes).toEqual(['anonymous_id']);
    expect(page2.body.nextCursor).toBeNull();
    const notMergeable = rules.map((r: { type: string }) =>
      r.type === 'anonymous_id' ? { ...r, mergeable: false } : r,
    );
    expect(
      (await h.request('POST', '/v1/identity/rules/preview', { rules: notMergeable })).body.items,
    ).toEqual([]);
    expect(await h.prisma.customerMerge.count()).toBe(mergesBefore);
    expect(
      (await h.request('POST', '/v1/identity/rules/preview', { rules, cursor: 'x' })).body.issues,
    ).toEqual([expect.objectContaining({ path: '/cursor' })]);

    const put = await h.request('PUT', '/v1/identity/rules', { rules });
    expect(put.status).toBe(200);
    expect((await h.request('GET', '/v1/identity/rules')).body).toEqual({ rules });
    expect(await h.prisma.auditLog.count({ where: { action: 'identity_rules.updated' } })).toBe(1);
    // Under the new rules the next call linking a pair merges it.
    const [a1] = pairs[0]!;
    expect(await h.prisma.customerMerge.count()).toBe(mergesBefore);
    await h.resolve({ userId: 'u-pre-a1', anonymousId: 'anon-pre-b1' });
    expect(await h.prisma.customerMerge.count()).toBe(mergesBefore + 1);
    expect(a1).toBeDefined();
  });
});
