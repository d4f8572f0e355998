// The last use of each management API key: every service reports the keys it saw used
// (service-kit's ApiKeyUseReporter, every API_KEY_USE_REPORT_MS), and collection, which owns
// api_keys, records them; against the real local Postgres and NATS.
import { RpcSubjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { startCollection, waitUntil, type TrackingHarness } from './tracking-harness';

describe('API key last use', () => {
  let h: TrackingHarness;
  let admin: string;

  beforeAll(async () => {
    h = await startCollection('keyuse', { API_KEY_USE_REPORT_MS: '200' });
    admin = `Bearer ${h.keys.apiKey}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = async (url: string, key: string) => {
    const res = await h.app.inject({ method: 'GET', url, headers: { authorization: key } });
    return { status: res.statusCode, body: res.json<any>() };
  };
  const keyNamed = async (name: string) =>
    (await get('/v1/api-keys', admin)).body.find((k: any) => k.name === name);

  it('shows when each key was last used, as the services report it', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { authorization: admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'BI export', scopes: ['customers:read'] }),
    });
    expect(created.statusCode).toBe(201);
    const bi = created.json<any>();
    // Listing the keys is itself a use of the admin key; the new key is not used yet.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await keyNamed('BI export')).lastUsedAt).toBeNull();

    const before = Date.now();
    const lookup = await get(
      '/v1/customers?identifierType=email&identifierValue=nobody@example.com',
      `Bearer ${bi.key}`,
    );
    expect(lookup.status).toBe(404);
    const used = await waitUntil('the BI key\u2019s use recorded', async () => {
      const key = await keyNamed('BI export');
      return key.lastUsedAt ? key : undefined;
    });
    expect(Date.parse(used.lastUsedAt)).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(used.lastUsedAt)).toBeLessThanOrEqual(Date.now());
    // The admin key used for every listing here is recorded too.
    const keys = (await get('/v1/api-keys', admin)).body;
    expect(keys.find((k: any) => k.id !== bi.id).lastUsedAt).not.toBeNull();
  });

  it('moves a last use forward only, and only for keys of the reporting workspace', async () => {
    const publisher = h.app.get(JetStreamPublisher);
    const key = await keyNamed('BI export');
    const later = new Date(Date.parse(key.lastUsedAt) + 60_000).toISOString();
    const earlier = new Date(Date.parse(key.lastUsedAt) - 60_000).toISOString();
    const report = (workspaceId: string, usedAt: string) =>
      publisher.request(RpcSubjects.apiKeysUsed, { workspaceId, uses: [{ apiKeyId: key.id, usedAt }] });

    // As delivery or analysis would report it.
    expect(await report(h.keys.workspaceId, later)).toEqual({ recorded: 1 });
    expect((await keyNamed('BI export')).lastUsedAt).toBe(later);
    expect(await report(h.keys.workspaceId, earlier)).toEqual({ recorded: 0 });
    expect(await report('another-workspace', new Date(Date.parse(later) + 60_000).toISOString())).toEqual({
      recorded: 0,
    });
    expect((await keyNamed('BI export')).lastUsedAt).toBe(later);
  });
});
