import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * A provider's endpoint on 127.0.0.1 for tests: every request is kept, and `handle` checks it the
 * way the provider would and answers. A thrown check becomes a 400 with the reason (and is kept in
 * `failures`), so a wrong request fails the test through the adapter's error too.
 */
export class LocalServer {
  readonly requests: ReceivedRequest[] = [];
  readonly failures: string[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly handle: (request: ReceivedRequest) => Reply | Promise<Reply>) {}

  async start(tls?: { key: string; cert: string }): Promise<this> {
    const listener = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        this.requests.push(request);
        Promise.resolve()
          .then(() => this.handle(request))
          .catch((e: unknown): Reply => {
            this.failures.push((e as Error).message);
            return { status: 400, body: JSON.stringify({ error: (e as Error).message }) };
          })
          .then((reply) => {
            res.writeHead(reply.status, reply.headers);
            res.end(reply.body);
          })
          .catch(() => res.destroy());
      });
    };
    this.server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A throw-away certificate for 127.0.0.1 made with the openssl command line. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cdp-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function assert(condition: unknown, reason: string): asserts condition {
  if (!condition) throw new Error(reason);
}
