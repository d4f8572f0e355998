import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendError } from './channel-adapter';
import { httpFailure, providerCall, providerFetch, retryAfterMs } from './provider-http';

describe('provider HTTP failures', () => {
  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      10_000,
    );
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('classifies statuses', () => {
    expect(httpFailure('x', 400, '').permanent).toBe(true);
    expect(httpFailure('x', 404, '').permanent).toBe(true);
    expect(httpFailure('x', 429, '', '3')).toMatchObject({ permanent: false, retryAfterMs: 3000 });
    expect(httpFailure('x', 408, '').permanent).toBe(false);
    expect(httpFailure('x', 502, '').permanent).toBe(false);
  });
});

describe('provider HTTP calls', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; url?: string; header?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          header: req.headers['x-test'] as string | undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        if (req.url === '/silent') return; // never answers
        if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"parts":');
          res.end('2}');
        } else if (req.url === '/huge') {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.write('x'.repeat(1 << 20));
          res.end('y'.repeat(1000));
        } else if (req.url === '/busy') {
          res.writeHead(429, { 'retry-after': '5', 'content-length': '4' });
          res.end('slow');
        } else {
          res.writeHead(201, { 'content-type': 'application/json', 'content-length': '11' });
          res.end('{"sid":"1"}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = { method: 'POST', headers: { 'x-test': 'yes' }, body: 'a=1&b=2' };

  it('sends the method, path and query, headers and body; reads the answer', async () => {
    const res = await providerFetch('p', `${base}/v1/things?x=1`, post, 2000);
    expect(res).toMatchObject({ status: 201, ok: true });
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(await res.json()).toEqual({ sid: '1' });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/v1/things?x=1', header: 'yes', body: 'a=1&b=2' });
  });

  it('reads a chunked answer', async () => {
    expect(await (await providerFetch('p', `${base}/chunked`, post, 2000)).json()).toEqual({ parts: 2 });
  });

  it('keeps at most 1 MiB of an answer', async () => {
    const res = await providerFetch('p', `${base}/huge`, post, 2000);
    expect(res.status).toBe(500);
    expect((await res.text()).length).toBe(1 << 20);
  });

  it('turns a non-2xx answer into its SendError, with Retry-After', async () => {
    const error = (await providerCall('p', `${base}/busy`, post, 2000).catch((e: unknown) => e)) as SendError;
    expect(error).toBeInstanceOf(SendError);
    expect(error).toMatchObject({ permanent: false, retryAfterMs: 5000 });
    expect(error.message).toBe('p answered 429: slow');
  });

  it('fails transiently when no answer comes in time, permanently for a URL it cannot call', async () => {
    const started = Date.now();
    const silent = (await providerFetch('p', `${base}/silent`, post, 300).catch(
      (e: unknown) => e,
    )) as SendError;
    expect(silent).toBeInstanceOf(SendError);
    expect(silent.permanent).toBe(false);
    expect(silent.message).toMatch(/^p unreachable: /);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(providerFetch('p', 'not a url', post, 300)).rejects.toMatchObject({ permanent: true });
    await expect(providerFetch('p', 'ftp://example.com/x', post, 300)).rejects.toMatchObject({
      permanent: true,
    });
  });
});
