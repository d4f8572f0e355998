// Request logs of a running service: one JSON line per request from the Fastify hook of
// service-kit (no AsyncLocalStorage per request), with its id and outcome and never a credential.
import { waitFor } from '@cdp/testing';
import { RunningCollection } from './collection-process';

describe('request logs of a running service', () => {
  let collection: RunningCollection;

  beforeAll(async () => {
    collection = await RunningCollection.start('reqlogs', { env: { LOG_LEVEL: 'info', CONSUMERS: 'false' } });
  });
  afterAll(async () => {
    expect(await collection?.stop()).toBe(0);
  });

  const logLines = () =>
    collection.service
      .logs()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs each request once with its id, route and status, and leaves out credentials and probes', async () => {
    const writeKeyAuth = `Basic ${Buffer.from(`${collection.keys.writeKey}:`).toString('base64')}`;
    const res = await fetch(`${collection.url}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: writeKeyAuth,
        'content-type': 'application/json',
        'x-request-id': 'reqlog-1',
        'user-agent': 'analytics-node-next/1.0',
      },
      body: JSON.stringify({ userId: 'reqlog-user', event: 'Logged' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('reqlog-1');
    expect((await fetch(`${collection.url}/health/live`)).status).toBe(200);

    await waitFor('the request log line', async () =>
      logLines().some((l) => (l.req as { id?: string } | undefined)?.id === 'reqlog-1'),
    );
    const lines = logLines().filter((l) => (l.req as { id?: string } | undefined)?.id === 'reqlog-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'collection',
      msg: 'request completed',
      req: { id: 'reqlog-1', method: 'POST', url: '/v1/track', userAgent: 'analytics-node-next/1.0' },
      res: { statusCode: 200 },
    });
    const all = collection.service.logs();
    expect(all).not.toContain(collection.keys.writeKey);
    expect(all).not.toContain(writeKeyAuth.slice('Basic '.length));
    expect(logLines().some((l) => (l.req as { url?: string } | undefined)?.url === '/health/live')).toBe(
      false,
    );
  });
});
