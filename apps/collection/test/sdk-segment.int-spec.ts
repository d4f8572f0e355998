/**
 * The latest official Segment Node SDK, with default options except `host`, against a real
 * collection service listening on a port. An HTTP proxy in front of the service lets the first
 * request through to the service but answers the SDK 503, as if the answer were lost: the SDK
 * retries the same batch and every messageId must still be stored exactly once.
 */
import { Analytics } from '@segment/analytics-node';
import { basicAuth, storedCounts, waitUntil, type SeenRequest } from './tracking-harness';
import { useSdkTarget } from './sdk-target';

describe('Segment analytics-node SDK against the collection service', () => {
  const target = useSdkTarget('sdkseg');

  it('stores identify, track and page exactly once although the first answer is lost', async () => {
    const { h, proxy } = target;
    const analytics = new Analytics({ writeKey: h.keys.writeKey, host: proxy.url });
    const failures: unknown[] = [];
    analytics.on('error', (e) => failures.push(e));
    analytics.identify({ userId: 'sdk-user-1', traits: { email: 'sdk@example.com', plan: 'savings' } });
    analytics.track({ userId: 'sdk-user-1', event: 'Account Opened', properties: { product: 'savings' } });
    analytics.page({ userId: 'sdk-user-1', category: 'Docs', name: 'Rates', properties: { path: '/rates' } });
    await analytics.closeAndFlush();
    expect(failures).toEqual([]);

    // What the SDK really sends: one POST /v1/batch, plain JSON, Basic auth AND writeKey in the body.
    expect(proxy.seen.map((r) => [r.method, r.url, r.answered])).toEqual([
      ['POST', '/v1/batch', 503],
      ['POST', '/v1/batch', 200],
    ]);
    const [first, retry] = proxy.seen as [SeenRequest, SeenRequest];
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['content-encoding']).toBeUndefined();
    expect(first.headers.authorization).toBe(basicAuth(h.keys.writeKey));
    expect(retry.headers['x-retry-count']).toBe('1');
    const sent = JSON.parse(first.body.toString('utf8'));
    expect(sent.writeKey).toBe(h.keys.writeKey);
    expect(typeof sent.sentAt).toBe('string');
    expect(sent.batch.map((e: any) => e.type)).toEqual(['identify', 'track', 'page']);
    expect(sent.batch[0].context.library.name).toBe('@segment/analytics-node');
    const messageIds: string[] = sent.batch.map((e: any) => e.messageId);
    // The retry carries the same calls with the same messageIds.
    expect(JSON.parse(retry.body.toString('utf8')).batch.map((e: any) => e.messageId)).toEqual(messageIds);

    const customer = await waitUntil<{ email?: string }>('the SDK user', async () => {
      const res = await h.app.inject({
        method: 'GET',
        url: '/v1/customers?identifierType=user_id&identifierValue=sdk-user-1',
        headers: { authorization: `Bearer ${h.keys.apiKey}` },
      });
      return res.statusCode === 200 ? res.json() : undefined;
    });
    expect(customer.email).toBe('sdk@example.com');
    const counts = await waitUntil('three stored calls', async () => {
      const c = await storedCounts(h.db, h.keys.workspaceId);
      return messageIds.every((id) => c.has(id)) ? c : undefined;
    });
    // Give a duplicate a chance to land before counting.
    await new Promise((r) => setTimeout(r, 500));
    const final = await storedCounts(h.db, h.keys.workspaceId);
    expect(messageIds.map((id) => final.get(id))).toEqual([1, 1, 1]);
    expect(counts.size).toBe(3);
    const page = await h.db.event.findFirstOrThrow({ where: { messageId: messageIds[2] } });
    expect(page.type).toBe('page');
    expect(page.properties).toMatchObject({ name: 'Rates', category: 'Docs', path: '/rates' });
  });
});
