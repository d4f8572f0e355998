/**
 * The RudderStack Node SDK, default options except the data plane URL, against a real collection
 * service: it gzips its batches and sends them as application/x-www-form-urlencoded. The first
 * answer is lost (503 from the proxy after the service stored the batch); its retry is stored once.
 */
import Analytics from '@rudderstack/rudder-sdk-node';
import { basicAuth, storedCounts, waitUntil, type SeenRequest } from './tracking-harness';
import { useSdkTarget } from './sdk-target';
import { gunzipSync } from 'node:zlib';

describe('RudderStack Node SDK against the collection service', () => {
  const target = useSdkTarget('sdkrud');

  it('stores its gzipped identify, track and page once although the first answer is lost', async () => {
    const { h, proxy } = target;
    const client = new Analytics(h.keys.writeKey, { dataPlaneUrl: proxy.url });
    // It reports the lost answer on the console; keep the test output clean.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    client.identify({ userId: 'rud-user-1', traits: { email: 'rud@example.com' } });
    client.track({ userId: 'rud-user-1', event: 'Card Applied', properties: { product: 'card' } });
    client.page({ userId: 'rud-user-1', name: 'Cards', category: 'Products' });
    await client.flush();
    consoleError.mockRestore();
    // The first call is sent at once, the rest on flush(); the lost first answer makes the SDK
    // (axios-retry) send the same bytes again.
    expect(proxy.seen.map((r) => r.answered)).toEqual([503, 200, 200]);
    const [first, retry] = proxy.seen as [SeenRequest, SeenRequest];
    expect(retry.body.equals(first.body)).toBe(true);
    // What it really sends: gzip, under a form content type, write key in Basic auth only.
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(first.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(first.headers.authorization).toBe(basicAuth(h.keys.writeKey));
    const calls = proxy.seen.flatMap((r) => JSON.parse(gunzipSync(r.body).toString('utf8')).batch);
    expect(calls.some((c: any) => 'writeKey' in c)).toBe(false);
    const messageIds = [...new Set<string>(calls.map((c: any) => c.messageId))];
    expect(messageIds).toHaveLength(3);

    await waitUntil('three stored calls', async () => {
      const c = await storedCounts(h.db, h.keys.workspaceId);
      return messageIds.every((id) => c.has(id));
    });
    await new Promise((r) => setTimeout(r, 500));
    const counts = await storedCounts(h.db, h.keys.workspaceId);
    expect(messageIds.map((id) => counts.get(id))).toEqual([1, 1, 1]);
    expect(counts.size).toBe(3);
  });
});
