// PUT /v1/customers/:id/consents on the real local Postgres and NATS (own database and prefix): a
// consent recorded by a preference centre or a branch, on the survivor of a merged id, ordered by
// when it happened, and what the customer look-up tells other services about it.
import { randomUUID } from 'node:crypto';
import { ConsentsService } from '../src/consents/consents.service';
import { startIdentityHarness, type IdentityHarness } from './identity-support';

describe('consents API (PUT /v1/customers/:id/consents)', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await startIdentityHarness('consents_api');
  });
  afterAll(async () => {
    await h?.close();
  });

  const put = (customerId: string, body: unknown, apiKey?: string) =>
    h.request('PUT', `/v1/customers/${customerId}/consents`, body, apiKey);

  it('records a consent on the survivor of a merged id, ignores an older change, and lists it', async () => {
    const survivor = await h.resolve({ userId: 'u-consent' });
    const merged = await h.resolve({ anonymousId: 'anon-consent' });
    expect((await h.resolve({ userId: 'u-consent', anonymousId: 'anon-consent' })).id).toBe(survivor.id);

    const granted = await put(merged.id, {
      purpose: 'marketing',
      channel: 'email',
      status: 'granted',
      source: 'web:preferences-v2',
      at: '2026-12-01T10:00:00Z',
      evidence: { notice: 'marketing-v3' },
    });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({
      applied: true,
      consent: {
        customerId: survivor.id,
        purpose: 'marketing',
        channel: 'email',
        status: 'granted',
        grantedAt: '2026-12-01T10:00:00.000Z',
        evidence: { notice: 'marketing-v3', recordedBy: expect.stringMatching(/^api_key:/) },
      },
    });
    const withdrawn = await put(survivor.id, {
      purpose: 'marketing',
      channel: 'email',
      status: 'withdrawn',
      source: 'branch:gangnam',
      at: '2026-12-02T10:00:00Z',
    });
    expect(withdrawn.body).toMatchObject({ applied: true, consent: { status: 'withdrawn' } });
    // A change older than the recorded one is ignored and answered with the consent as it stands.
    const late = await put(survivor.id, {
      purpose: 'marketing',
      channel: 'email',
      status: 'granted',
      source: 'web:preferences-v2',
      at: '2026-12-01T12:00:00Z',
    });
    expect(late.body).toMatchObject({ applied: false, consent: { status: 'withdrawn' } });

    // A grant for two years (marketing consent is reconfirmed every two years in Korea).
    const sms = await put(survivor.id, {
      purpose: 'marketing',
      channel: 'sms',
      status: 'granted',
      source: 'branch:gangnam',
      at: '2026-12-03T10:00:00Z',
      expiresAt: '2028-12-03T10:00:00Z',
    });
    expect(sms.body).toMatchObject({ applied: true, consent: { expiresAt: '2028-12-03T10:00:00.000Z' } });
    expect(
      (
        await put(survivor.id, {
          purpose: 'marketing',
          channel: 'sms',
          status: 'granted',
          source: 'x',
          expiresAt: 'in two years',
        })
      ).body.issues,
    ).toEqual([expect.objectContaining({ path: '/expiresAt' })]);

    const listed = await h.request('GET', `/v1/customers/${survivor.id}/consents`);
    expect(listed.body).toEqual([
      expect.objectContaining({ purpose: 'marketing', channel: 'email', status: 'withdrawn' }),
      expect.objectContaining({ purpose: 'marketing', channel: 'sms', status: 'granted' }),
    ]);
    // What the customer look-up RPC hands to campaign.
    expect(
      (await h.app.get(ConsentsService).states(h.workspaceId, survivor.id)).sort((a, b) =>
        a.channel.localeCompare(b.channel),
      ),
    ).toEqual([
      { purpose: 'marketing', channel: 'email', status: 'withdrawn' },
      { purpose: 'marketing', channel: 'sms', status: 'granted', expiresAt: '2028-12-03T10:00:00.000Z' },
    ]);
    // The change is in the customer's history.
    const history = await h.prisma.event.findMany({
      where: { customerId: survivor.id, name: { in: ['Consent Granted', 'Consent Withdrawn'] } },
    });
    expect(history.map((e) => e.name).sort()).toEqual([
      'Consent Granted',
      'Consent Granted',
      'Consent Withdrawn',
    ]);
  });

  it('answers 400 with the field path, 404 for an unknown or erased customer, 403 without customers:write', async () => {
    const customer = await h.resolve({ userId: 'u-consent-bad' });
    const bad = await put(customer.id, {
      purpose: 'marketing',
      channel: 'fax',
      status: 'granted',
      source: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: '/channel' })]);
    const noSource = await put(customer.id, { purpose: 'marketing', channel: 'email', status: 'granted' });
    expect(noSource.body.issues).toEqual([expect.objectContaining({ path: '/source' })]);
    expect((await put('not-a-uuid', {})).status).toBe(400);
    const body = { purpose: 'marketing', channel: 'sms', status: 'granted', source: 'branch' };
    expect((await put(randomUUID(), body)).status).toBe(404);

    const key = await h.request('POST', '/v1/api-keys', { name: 'reader', scopes: ['customers:read'] });
    expect((await put(customer.id, body, key.body.key)).status).toBe(403);

    expect((await h.request('DELETE', `/v1/customers/${customer.id}`)).status).toBe(200);
    expect((await put(customer.id, body)).status).toBe(404);
  });
});
