// Key management through REST: sources with their write keys (create, disable, rotate with a grace
// period for the replaced key) and management API keys (scopes, expiry, revocation), against the
// real local Postgres and NATS; a write key is tried where it matters, on /v1/track.
import {
  basicAuth,
  startCollection,
  storedCounts,
  waitUntil,
  type TrackingHarness,
} from './tracking-harness';

describe('sources and API keys', () => {
  let h: TrackingHarness;
  let admin: string;

  beforeAll(async () => {
    h = await startCollection('srckeys');
    admin = `Bearer ${h.keys.apiKey}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    key = admin,
  ) => {
    const res = await h.app.inject({
      method,
      url,
      headers: { authorization: key, ...(payload !== undefined && { 'content-type': 'application/json' }) },
      ...(payload !== undefined && { payload: JSON.stringify(payload) }),
    });
    return { status: res.statusCode, body: res.body ? res.json<any>() : undefined };
  };
  const track = async (writeKey: string, messageId: string) =>
    (
      await h.app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: { authorization: basicAuth(writeKey), 'content-type': 'application/json' },
        payload: JSON.stringify({ messageId, userId: 'u-keys', event: 'Key Tried' }),
      })
    ).statusCode;

  it('creates a source whose write key is shown once and takes tracking calls', async () => {
    const created = await call('POST', '/v1/sources', { name: 'Mobile banking app', kind: 'app' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Mobile banking app', kind: 'app', enabled: true });
    expect(created.body.writeKey).toMatch(/^wk_/);
    expect(created.body.writeKeyPrefix).toBe(created.body.writeKey.slice(0, 8));

    expect(await track(created.body.writeKey, 'keys-app-1')).toBe(200);
    const counts = await waitUntil('the call stored', async () => {
      const c = await storedCounts(h.db, h.keys.workspaceId);
      return c.get('keys-app-1') ? c : undefined;
    });
    expect(counts.get('keys-app-1')).toBe(1);
    const stored = await h.db.event.findFirstOrThrow({ where: { messageId: 'keys-app-1' } });
    expect(stored.sourceId).toBe(created.body.id);
    expect(created.body.lastEventAt).toBeNull();
    const seen = await waitUntil('the source\u2019s last event time', async () => {
      const source = await call('GET', `/v1/sources/${created.body.id}`);
      return source.body.lastEventAt ? source.body : undefined;
    });
    expect(Date.parse(seen.lastEventAt)).toBeGreaterThan(Date.parse(created.body.createdAt) - 1000);

    const listed = await call('GET', '/v1/sources');
    expect(listed.status).toBe(200);
    expect(listed.body.map((s: any) => s.name)).toEqual(['default', 'Mobile banking app']);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.writeKey);
    expect(listed.body[0]).not.toHaveProperty('writeKeyHash');
  });

  it('answers bad input with the field path, a taken name with 409, an unknown id with 404', async () => {
    const bad = await call('POST', '/v1/sources', { name: '', kind: 'fax' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: any) => i.path).sort()).toEqual(['/kind', '/name']);
    expect((await call('POST', '/v1/sources', { name: 'default', kind: 'web' })).status).toBe(409);
    expect((await call('PATCH', '/v1/sources/no-such-source', { enabled: false })).status).toBe(404);
    const empty = await call('PATCH', `/v1/sources/${h.keys.sourceId}`, {});
    expect(empty.status).toBe(400);
  });

  it('rotates a write key: the replaced one works for the grace period, then not at all', async () => {
    const source = (await call('POST', '/v1/sources', { name: 'Branch tablets', kind: 'branch' })).body;
    const first = source.writeKey as string;

    const rotated = await call('POST', `/v1/sources/${source.id}/write-key/rotate`, {
      previousKeyValidSeconds: 3600,
    });
    expect(rotated.status).toBe(200);
    const second = rotated.body.writeKey as string;
    expect(second).not.toBe(first);
    expect(Date.parse(rotated.body.previousKeyValidUntil)).toBeGreaterThan(Date.now() + 3500_000);
    expect(await track(first, 'keys-rot-1')).toBe(200);
    expect(await track(second, 'keys-rot-2')).toBe(200);

    // A second rotation without grace: the first key is gone for good, the second stops at once.
    const third = (
      await call('POST', `/v1/sources/${source.id}/write-key/rotate`, { previousKeyValidSeconds: 0 })
    ).body;
    expect(third.previousKeyValidUntil).toBeNull();
    expect(await track(first, 'keys-rot-3')).toBe(401);
    expect(await track(second, 'keys-rot-4')).toBe(401);
    expect(await track(third.writeKey, 'keys-rot-5')).toBe(200);

    const bad = await call('POST', `/v1/sources/${source.id}/write-key/rotate`, {
      previousKeyValidSeconds: -1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('/previousKeyValidSeconds');
  });

  it('refuses the write key of a disabled source, and takes it again once enabled', async () => {
    const source = (await call('POST', '/v1/sources', { name: 'Call centre', kind: 'call_centre' })).body;
    expect(await track(source.writeKey, 'keys-dis-1')).toBe(200);
    const disabled = await call('PATCH', `/v1/sources/${source.id}`, {
      enabled: false,
      description: 'paused',
    });
    expect(disabled.body).toMatchObject({ enabled: false, description: 'paused' });
    expect(await track(source.writeKey, 'keys-dis-2')).toBe(401);
    await call('PATCH', `/v1/sources/${source.id}`, { enabled: true });
    expect(await track(source.writeKey, 'keys-dis-3')).toBe(200);
  });

  it('makes API keys with scopes, each endpoint needing its own (admin holds all, write holds read)', async () => {
    const created = await call('POST', '/v1/api-keys', { name: 'Source auditor', scopes: ['sources:read'] });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^cdp_/);
    expect(created.body.createdBy).toBe(`api-key:${(await call('GET', '/v1/api-keys')).body[0].id}`);
    const reader = `Bearer ${created.body.key}`;

    expect((await call('GET', '/v1/sources', undefined, reader)).status).toBe(200);
    const refused = await call('POST', '/v1/sources', { name: 'Shadow IT', kind: 'web' }, reader);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('"admin"');
    expect((await call('GET', '/v1/api-keys', undefined, reader)).status).toBe(403);
    const otherArea = await call('GET', '/v1/lifecycle/rules', undefined, reader);
    expect(otherArea.status).toBe(403);
    expect(otherArea.body.message).toContain('"lifecycle:read"');

    const writer = `Bearer ${(await call('POST', '/v1/api-keys', { name: 'Rules editor', scopes: ['lifecycle:write'] })).body.key}`;
    expect((await call('GET', '/v1/lifecycle/rules', undefined, writer)).status).toBe(200);
    expect((await call('GET', '/v1/sources', undefined, writer)).status).toBe(403);

    const listed = (await call('GET', '/v1/api-keys')).body;
    expect(listed.map((k: any) => k.name)).toEqual(
      expect.arrayContaining(['Source auditor', 'Rules editor']),
    );
    expect(JSON.stringify(listed)).not.toContain(created.body.key);

    const bad = await call('POST', '/v1/api-keys', { name: 'x', scopes: ['Not A Scope'] });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('/scopes/0');
  });

  it('stops an API key at its expiry and at its revocation', async () => {
    const past = await call('POST', '/v1/api-keys', {
      name: 'late',
      scopes: ['admin'],
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.status).toBe(400);
    expect(past.body.issues).toEqual([{ path: '/expiresAt', reason: 'must be in the future' }]);

    // Long enough for the first call to pass on a loaded machine; that call caches the key.
    const expiry = Date.now() + 3000;
    const shortLived = await call('POST', '/v1/api-keys', {
      name: 'short-lived',
      scopes: ['admin'],
      expiresAt: new Date(expiry).toISOString(),
    });
    const temporary = `Bearer ${shortLived.body.key}`;
    expect((await call('GET', '/v1/sources', undefined, temporary)).status).toBe(200);
    await new Promise((r) => setTimeout(r, expiry + 100 - Date.now()));
    const expired = await call('GET', '/v1/sources', undefined, temporary);
    expect(expired.status).toBe(401);

    const doomed = (await call('POST', '/v1/api-keys', { name: 'doomed', scopes: ['sources:read'] })).body;
    expect((await call('GET', '/v1/sources', undefined, `Bearer ${doomed.key}`)).status).toBe(200);
    const revoked = await call('DELETE', `/v1/api-keys/${doomed.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await call('GET', '/v1/sources', undefined, `Bearer ${doomed.key}`)).status).toBe(401);
    expect((await call('DELETE', '/v1/api-keys/no-such-key')).status).toBe(404);
  });

  it('refuses to revoke the last active admin key', async () => {
    const keys = (await call('GET', '/v1/api-keys')).body as any[];
    const bootstrapKey = keys.find((k) => k.name.endsWith('bootstrap key'));
    const lastAdmin = await call('DELETE', `/v1/api-keys/${bootstrapKey.id}`);
    expect(lastAdmin.status).toBe(409);
    expect(lastAdmin.body.message).toContain('last active admin key');

    const successor = (await call('POST', '/v1/api-keys', { name: 'successor', scopes: ['admin'] })).body;
    expect((await call('DELETE', `/v1/api-keys/${bootstrapKey.id}`)).status).toBe(200);
    expect((await call('GET', '/v1/sources')).status).toBe(401);
    admin = `Bearer ${successor.key}`;
    expect((await call('GET', '/v1/sources')).status).toBe(200);
  });
});
