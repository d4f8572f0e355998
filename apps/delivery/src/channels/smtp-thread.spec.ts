import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort, SmtpSink } from '@cdp/testing';
import { selfSignedCertificate } from '@cdp/testing';
import { SendError } from './channel-adapter';
import { SmtpEmailAdapter } from './smtp-email.adapter';
import { SmtpThread } from './smtp-thread';

const message = (n: number, recipient = `c${n}@example.com`) => ({
  messageId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  idempotencyKey: `k${n}`,
  workspaceId: 'w',
  customerId: 'c',
  channel: 'email' as const,
  recipient,
  subject: 'Hello',
  text: `mail ${n}`,
  headers: {},
});

const adapterFor = (port: number) =>
  new SmtpEmailAdapter({
    host: '127.0.0.1',
    port,
    secure: false,
    from: 'CDP <no-reply@cdp.example>',
    poolSize: 2,
  });

describe('SMTP in its own thread', () => {
  const sink = new SmtpSink((to) =>
    to.startsWith('nobody@') ? { code: 550, message: 'no such user' } : undefined,
  );
  let sinkPort: number;
  // A server that takes the connection and never greets: a send to it stays under way.
  let silent: Server;
  let silentPort: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    sinkPort = await freePort();
    await sink.listen(sinkPort);
    silent = createServer((socket) => void sockets.push(socket));
    silentPort = await freePort();
    await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await sink.close();
  });

  it('sends through the thread, and a refused recipient is a permanent error', async () => {
    const adapter = adapterFor(sinkPort);
    try {
      const result = await adapter.send(message(1));
      expect(result.providerMessageId).toBe(`<${message(1).messageId}@cdp.example>`);
      expect(sink.received.find((m) => m.to.includes('c1@example.com'))?.raw).toContain('mail 1');
      const refused = adapter.send(message(2, 'nobody@example.com'));
      await expect(refused).rejects.toBeInstanceOf(SendError);
      await expect(refused).rejects.toMatchObject({ permanent: true });
    } finally {
      adapter.close();
    }
  });

  it('fails the sends under way as transient when the thread dies, and the next send starts a new one', async () => {
    const stuck = adapterFor(silentPort);
    const working = adapterFor(sinkPort);
    try {
      await working.send(message(3));
      const underWay = stuck.send(message(4));
      await new Promise((r) => setTimeout(r, 200));
      const thread = SmtpThread.shared() as unknown as { worker: { terminate(): Promise<number> } };
      await thread.worker.terminate();
      await expect(underWay).rejects.toMatchObject({
        permanent: false,
        message: expect.stringMatching(/SMTP thread exited/),
      });
      // The pool is opened again in the new thread.
      await working.send(message(5));
      expect(sink.received.filter((m) => m.to.includes('c5@example.com'))).toHaveLength(1);
    } finally {
      stuck.close();
      working.close();
    }
  });

  it('fails a send to a port nobody listens on as transient', async () => {
    const adapter = adapterFor(await freePort());
    try {
      await expect(adapter.send(message(6))).rejects.toMatchObject({
        permanent: false,
        message: expect.stringMatching(/ECONNREFUSED/) as string,
      });
    } finally {
      adapter.close();
    }
  });

  it.each([
    ['implicit TLS', true],
    ['STARTTLS', false],
  ])('sends over %s: the connection the thread opens is upgraded', async (_mode, secure) => {
    const { key, cert } = selfSignedCertificate();
    let session: { secure: boolean; body: string } | undefined;
    const server = new SMTPServer({
      secure,
      key,
      cert,
      authOptional: true,
      logger: false,
      onData(stream, info, callback) {
        let body = '';
        stream.on('data', (c: Buffer) => (body += c.toString()));
        stream.on('end', () => {
          session = { secure: info.secure, body };
          callback();
        });
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const thread = SmtpThread.shared();
    const pool = thread.open({ pool: true, host: '127.0.0.1', port, secure, tls: { ca: cert } });
    try {
      const result = await thread.send(pool, {
        from: 'a@example.com',
        to: 'b@example.com',
        subject: 'TLS',
        text: 'over TLS',
      });
      expect(result).toHaveProperty('info');
      expect(session).toEqual({ secure: true, body: expect.stringContaining('over TLS') as string });
    } finally {
      thread.close(pool);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
