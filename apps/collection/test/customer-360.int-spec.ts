// The Customer 360 view on the real local Postgres and NATS (own database and prefix): one call
// gives staff the profile, identities, consents, restriction, operational records, recent
// interactions, devices and analysis's segments and scores (answered here by a raw NATS responder
// standing in for analysis); without analysis the view still comes, marked as missing them.
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { NATS_URL } from '@cdp/testing';
import { IngestService } from '../src/ingest/ingest.service';
import { accepted, type Accepted } from './ingest-fixtures';
import { startIdentityHarness, type IdentityHarness } from './identity-support';

const SCORE = {
  model: 'customer_value',
  modelVersion: 'rfm-decay-1',
  value: 0.42,
  computedAt: '2026-12-01T10:00:00.000Z',
};

describe('Customer 360 view', () => {
  let h: IdentityHarness;
  let ingest: IngestService;
  let nc: NatsConnection;
  let analysis: Subscription | undefined;
  const asked: string[] = [];

  const call = (extra: Partial<Accepted>) =>
    accepted(
      { workspaceId: h.workspaceId, sourceId: h.sourceId } as Parameters<typeof accepted>[0],
      randomUUID(),
      {
        userId: undefined,
        ...extra,
      },
    );
  const standInForAnalysis = () => {
    analysis = nc.subscribe(`${h.prefix}.cdp-rpc.customer.segments.*`, {
      callback: (_e, msg) => {
        const { customerId } = msg.json<{ customerId: string }>();
        asked.push(customerId);
        msg.respond(
          JSON.stringify({
            segments: [
              { segmentId: 'seg-prospects', name: 'Prospects', enteredAt: '2026-12-01T10:00:00.000Z' },
            ],
            scores: [SCORE],
          }),
        );
      },
    });
    return nc.flush();
  };

  beforeAll(async () => {
    h = await startIdentityHarness('c360');
    ingest = h.app.get(IngestService);
    nc = await connect({ servers: NATS_URL });
    await standInForAnalysis();
  });
  afterAll(async () => {
    await nc?.close();
    await h?.close();
  });

  it('answers the whole customer in one call, the survivor for a merged id', async () => {
    const identify = call({
      type: 'identify',
      userId: 'u-360',
      anonymousId: 'anon-360',
      traits: { email: 'jane@example.com', firstName: 'Jane' },
    });
    const viewed = call({ userId: 'u-360', event: 'Loan Viewed' });
    const other = call({ anonymousId: 'anon-tablet', event: 'Rate Checked' });
    await ingest.storeBatch([identify]);
    await ingest.storeBatch([viewed, other]);
    const { customerId } = await h.prisma.event.findFirstOrThrow({
      where: { messageId: identify.messageId },
    });
    expect(
      (
        await h.request('PUT', `/v1/customers/${customerId}/consents`, {
          purpose: 'marketing',
          channel: 'email',
          status: 'granted',
          source: 'web',
        })
      ).status,
    ).toBe(200);

    const res = await h.request('GET', `/v1/customers/${customerId}/360`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      customer: {
        id: customerId,
        email: 'jane@example.com',
        traits: expect.objectContaining({ firstName: 'Jane' }),
        identities: expect.arrayContaining([expect.objectContaining({ type: 'user_id', value: 'u-360' })]),
      },
      consents: [{ purpose: 'marketing', channel: 'email', status: 'granted' }],
      restricted: false,
      contracts: [],
      recentTransactions: [],
      recentConsultations: [],
      devices: { deviceTokens: [], webPushSubscriptions: [] },
      segments: [{ segmentId: 'seg-prospects', name: 'Prospects', enteredAt: '2026-12-01T10:00:00.000Z' }],
      scores: [SCORE],
      unavailable: [],
    });
    expect(res.body.recentEvents.map((e: { messageId: string }) => e.messageId)).toEqual(
      expect.arrayContaining([identify.messageId, viewed.messageId]),
    );
    expect(asked).toContain(customerId);

    // The tablet turns out to be Jane's: after the alias, its old id answers as the merged customer.
    const tablet = (await h.prisma.event.findFirstOrThrow({ where: { messageId: other.messageId } }))
      .customerId;
    await ingest.storeBatch([call({ type: 'alias', userId: 'u-360', previousId: 'anon-tablet' })]);
    const merged = await h.request('GET', `/v1/customers/${tablet}/360`);
    const survivor = await h.request('GET', `/v1/customers/${customerId}/360`);
    expect(merged.status).toBe(200);
    expect(merged.body.customer.id).toBe(survivor.body.customer.id);
    expect(merged.body.recentEvents.map((e: { messageId: string }) => e.messageId)).toEqual(
      expect.arrayContaining([viewed.messageId, other.messageId]),
    );
  });

  it('comes without the segments and scores, saying so, when analysis does not answer', async () => {
    await analysis?.drain();
    const identify = call({ type: 'identify', userId: 'u-360-b', traits: { email: 'b@example.com' } });
    await ingest.storeBatch([identify]);
    const { customerId } = await h.prisma.event.findFirstOrThrow({
      where: { messageId: identify.messageId },
    });
    const res = await h.request('GET', `/v1/customers/${customerId}/360`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      customer: { id: customerId },
      segments: null,
      scores: null,
      unavailable: ['segments', 'scores'],
    });
    await standInForAnalysis();
  });

  it('answers 400 for an id that is not one, 404 for an unknown customer, 410 for an erased one', async () => {
    const bad = await h.request('GET', '/v1/customers/nope/360');
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ path: '/id', reason: 'a UUID' }]);
    expect((await h.request('GET', `/v1/customers/${randomUUID()}/360`)).status).toBe(404);
    const identify = call({ type: 'identify', userId: 'u-360-gone' });
    await ingest.storeBatch([identify]);
    const { customerId } = await h.prisma.event.findFirstOrThrow({
      where: { messageId: identify.messageId },
    });
    expect((await h.request('DELETE', `/v1/customers/${customerId}`)).status).toBe(200);
    expect((await h.request('GET', `/v1/customers/${customerId}/360`)).status).toBe(410);
  });
});
