/**
 * NATS unreachable while a batch comes in: the answer is 503 + Retry-After (never a 2xx for a
 * call JetStream has not acked); the client's retry after NATS is back stores every call once.
 */
import {
  basicAuth,
  startCollection,
  storedCounts,
  waitUntil,
  type TrackingHarness,
} from './tracking-harness';
import { NATS_URL, TcpProxy } from '@cdp/testing';

describe('tracking API while NATS is cut', () => {
  const nats = new TcpProxy('127.0.0.1', Number(new URL(NATS_URL).port || 4222));
  let h: TrackingHarness;

  beforeAll(async () => {
    await nats.start();
    h = await startCollection('trackout', { NATS_URL: `nats://127.0.0.1:${nats.port}` });
  });
  afterAll(async () => {
    await h?.close();
    await nats.stop();
  });

  it('answers 503 with Retry-After, then stores the retried batch exactly once', async () => {
    const send = () =>
      h.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: basicAuth(h.keys.writeKey), 'content-type': 'application/json' },
        payload: JSON.stringify({
          batch: ['out-1', 'out-2', 'out-3'].map((messageId) => ({
            type: 'track',
            userId: 'u-out',
            event: 'Outage',
            messageId,
          })),
        }),
      });
    nats.cut();
    const during = await send();
    expect(during.statusCode).toBe(503);
    expect(during.headers['retry-after']).toBeDefined();
    expect(await h.db.event.count()).toBe(0);

    nats.restore();
    const retried = await waitUntil(
      'a 200 after NATS is back',
      async () => {
        const res = await send();
        return res.statusCode === 200 ? res : undefined;
      },
      30_000,
    );
    expect(retried.json()).toEqual({ success: true });
    await waitUntil('three stored calls', async () => (await h.db.event.count()) >= 3);
    await new Promise((r) => setTimeout(r, 300));
    const counts = await storedCounts(h.db, h.keys.workspaceId);
    expect(['out-1', 'out-2', 'out-3'].map((id) => counts.get(id))).toEqual([1, 1, 1]);
  });
});
