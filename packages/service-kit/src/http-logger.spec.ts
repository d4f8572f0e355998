import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { httpLoggerOptions } from './service-kit.module';

describe('request logs', () => {
  let server: Server;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) =>
      chunk
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((line) => lines.push(JSON.parse(line) as Record<string, unknown>)),
    );
    const logger = pinoHttp(httpLoggerOptions('collection', 'info'), stream);
    server = createServer((req, res) => {
      logger(req, res);
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('names the request and its id, and never carries credentials', async () => {
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<{ id: unknown }>((resolve, reject) =>
      request(
        {
          port,
          path: '/v1/track?x=1',
          method: 'POST',
          headers: {
            authorization: 'Basic d2tfc2VjcmV0Og==',
            cookie: 'session=secret',
            'x-request-id': 'req-42',
            'user-agent': 'analytics-node',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ id: res.headers['x-request-id'] }));
        },
      )
        .on('error', reject)
        .end('{}'),
    );
    expect(answer.id).toBe('req-42');
    await new Promise((r) => setImmediate(r));
    const line = lines.find((l) => (l.req as { id?: unknown } | undefined)?.id === 'req-42');
    expect(line).toMatchObject({
      service: 'collection',
      msg: 'request completed',
      req: { id: 'req-42', method: 'POST', url: '/v1/track?x=1', userAgent: 'analytics-node' },
      res: { statusCode: 200 },
    });
    expect(JSON.stringify(lines)).not.toMatch(/d2tfc2VjcmV0|session=secret/);
  });
});
