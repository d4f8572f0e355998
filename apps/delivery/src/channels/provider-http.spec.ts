import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { frame } from '@cdp/testing';
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

describe('pipelined provider calls', () => {
  /**
   * A provider on raw TCP, so the test sees how requests arrive: which connection, which read, how
   * many were waiting for their answer. It answers each request with its body, after 20 ms.
   */
  let server: NetServer;
  let base: string;
  const arrivals: { connection: number; read: number; waiting: number; body: string }[] = [];
  /** The next read with two or more requests: the first is answered, then the connection closes. */
  let dropNextPipeline = false;

  beforeAll(async () => {
    let connections = 0;
    let reads = 0;
    server = createNetServer((socket) => {
      const connection = ++connections;
      let buffered = Buffer.alloc(0);
      let waiting = 0;
      socket.on('data', (chunk: Buffer) => {
        const read = ++reads;
        buffered = Buffer.concat([buffered, chunk]);
        const bodies: string[] = [];
        for (let message = frame(buffered); message !== 'incomplete'; message = frame(buffered)) {
          const end = buffered.indexOf('\r\n\r\n') + 4;
          bodies.push(buffered.toString('utf8', end, message.total));
          buffered = buffered.subarray(message.total);
        }
        const answer = (body: string) =>
          `HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 10}\r\n\r\n{"sid":"${body}"}`;
        if (dropNextPipeline && bodies.length >= 2) {
          dropNextPipeline = false;
          for (const body of bodies) arrivals.push({ connection, read, waiting: ++waiting, body });
          socket.end(answer(bodies[0]!));
          return;
        }
        for (const body of bodies) {
          arrivals.push({ connection, read, waiting: ++waiting, body });
          setTimeout(() => {
            waiting--;
            if (!socket.destroyed) socket.write(answer(body));
          }, 20);
        }
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const call = (path: string, body: string, idempotent: boolean) =>
    providerCall(
      'p',
      `${base}${path}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        idempotent,
      },
      2000,
    ).then((res) => res.json());

  it('sends idempotent calls of a turn pipelined, in few writes, and matches each answer to its call', async () => {
    arrivals.length = 0;
    const bodies = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const answers = await Promise.all(bodies.map((b) => call('/idempotent', b, true)));
    expect(answers).toEqual(bodies.map((b) => ({ sid: b })));
    // Requests waited on one connection together, and came in few reads (one write each).
    expect(Math.max(...arrivals.map((a) => a.waiting))).toBeGreaterThan(1);
    const perRead = new Map<number, number>();
    for (const a of arrivals) perRead.set(a.read, (perRead.get(a.read) ?? 0) + 1);
    expect(Math.max(...perRead.values())).toBeGreaterThanOrEqual(10);
  });

  it('sends a call that is not idempotent only on a connection with no answer outstanding', async () => {
    arrivals.length = 0;
    const bodies = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const answers = await Promise.all(bodies.map((b) => call('/plain', b, false)));
    expect(answers).toEqual(bodies.map((b) => ({ sid: b })));
    expect(arrivals.map((a) => a.waiting)).toEqual(bodies.map(() => 1));
  });

  it('sends pipelined calls again on a new connection when theirs closes before their answers', async () => {
    arrivals.length = 0;
    dropNextPipeline = true;
    // More calls than connections, so that some go pipelined (undici checks an idle connection for
    // one turn before it writes to it again, and meanwhile gives the next call another connection).
    const bodies = Array.from({ length: 40 }, (_, i) => `d${i}`);
    const results = await Promise.allSettled(bodies.map((b) => call('/dropped', b, true)));
    expect(dropNextPipeline).toBe(false);
    // undici fails the call at the head of the closed pipeline (a transient failure, retried by the
    // job) and sends the ones behind it again; every other call gets its own answer.
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as SendError] : []));
    expect(failed.length).toBeLessThanOrEqual(1);
    for (const e of failed) expect(e).toMatchObject({ permanent: false });
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') expect(r.value).toEqual({ sid: bodies[i] });
    });
    // Those sent again arrived twice: why only idempotent calls go pipelined.
    const counts = new Map<string, number>();
    for (const a of arrivals) counts.set(a.body, (counts.get(a.body) ?? 0) + 1);
    expect([...counts.values()].some((n) => n === 2)).toBe(true);
  });
});
