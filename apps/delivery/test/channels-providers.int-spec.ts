/**
 * Per-workspace provider settings: REST (validated, secrets write-only), secrets encrypted at rest
 * (checked in the table itself), key rotation, and the registry handing out the configured adapter
 * (a per-workspace SMTP pool, checked by a real SMTP server with authentication) or the env SMTP.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { ChannelRegistry } from '../src/channels/channel-registry';
import { ProvidersService } from '../src/providers/providers.service';
import type { OutboundMessage } from '../src/channels/channel-adapter';
import { secretKeySpec, startDelivery, type DeliveryHarness } from './support/delivery-app';
import { assert, cleanUpRun, testPrefix, LocalServer } from '@cdp/testing';

interface Mail {
  user: string | undefined;
  rcpt: string[];
  raw: Buffer;
}

async function smtpServer(credentials?: { user: string; password: string }) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: !credentials,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (credentials && auth.username === credentials.user && auth.password === credentials.password)
        return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          user: typeof session.user === 'string' ? session.user : undefined,
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function message(workspaceId: string, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    messageId: 'msg-1',
    idempotencyKey: 'idem-1',
    workspaceId,
    customerId: 'cust-1',
    channel: 'email',
    recipient: 'kim@example.com',
    subject: 'Your statement',
    text: 'Hello Kim',
    ...overrides,
  };
}

describe('delivery provider settings', () => {
  const prefix = testPrefix('dlvprov');
  const oldKey = secretKeySpec('k1');
  const newKey = secretKeySpec('k2');
  let envSmtp: Awaited<ReturnType<typeof smtpServer>>;
  let workspaceSmtp: Awaited<ReturnType<typeof smtpServer>>;
  let delivery: DeliveryHarness;

  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    delivery.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${delivery.apiKey}` },
      ...(payload !== undefined && { payload: payload as object }),
    });

  const smtpSettings = () => ({
    provider: 'smtp',
    settings: { host: '127.0.0.1', port: workspaceSmtp.port, user: 'acme', from: 'Acme <news@acme.test>' },
    secrets: { password: 'smtp-pass-5f1e9c' },
  });

  beforeAll(async () => {
    envSmtp = await smtpServer();
    workspaceSmtp = await smtpServer({ user: 'acme', password: 'smtp-pass-5f1e9c' });
    delivery = await startDelivery('dlvprov', {
      NATS_PREFIX: prefix,
      DELIVERY_SECRET_KEYS: oldKey,
      SMTP_PORT: String(envSmtp.port),
      PROVIDER_CACHE_TTL_MS: '60000',
    });
  });

  afterAll(async () => {
    await delivery?.close();
    await envSmtp?.close();
    await workspaceSmtp?.close();
    await cleanUpRun(prefix);
  });

  it('refuses a request without an API key', async () => {
    const res = await delivery.app.inject({ method: 'GET', url: '/v1/providers' });
    expect(res.statusCode).toBe(401);
  });

  it('rejects bad settings with the field path and reason', async () => {
    const unknownChannel = await call('PUT', '/v1/providers/fax', smtpSettings());
    expect(unknownChannel.statusCode).toBe(400);
    expect(unknownChannel.json().issues[0].path).toBe('/channel');

    const wrongChannel = await call('PUT', '/v1/providers/sms', smtpSettings());
    expect(wrongChannel.statusCode).toBe(400);
    expect(wrongChannel.json().issues[0]).toEqual({ path: '/provider', reason: 'smtp sends email, not sms' });

    const missingSecret = await call('PUT', '/v1/providers/sms', {
      provider: 'twilio',
      settings: { accountSid: `AC${'0'.repeat(32)}`, from: '+15005550006' },
      secrets: {},
    });
    expect(missingSecret.statusCode).toBe(400);
    expect(missingSecret.json().issues.map((i: { path: string }) => i.path)).toContain('/secrets/authToken');

    const unknownProvider = await call('PUT', '/v1/providers/email', { provider: 'pigeon' });
    expect(unknownProvider.statusCode).toBe(400);
    expect(unknownProvider.json().issues[0].path).toBe('/provider');
  });

  it('stores the settings, masks the secrets and never keeps them in clear', async () => {
    const put = await call('PUT', '/v1/providers/email', smtpSettings());
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      channel: 'email',
      provider: 'smtp',
      settings: { host: '127.0.0.1', user: 'acme' },
      secrets: { password: '********' },
    });

    const list = await call('GET', '/v1/providers');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([
      expect.objectContaining({ channel: 'email', secrets: { password: '********' } }),
    ]);
    expect(list.body).not.toContain('smtp-pass-5f1e9c');

    const rows = await delivery.prisma.$queryRaw<{ whole: string; secret_key_id: string; iv_len: number }[]>`
      SELECT row_to_json(p)::text AS whole, secret_key_id, length(secret_iv) AS iv_len FROM delivery_providers p`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_key_id).toBe('k1');
    expect(rows[0]!.iv_len).toBe(12);
    expect(rows[0]!.whole).not.toContain('smtp-pass-5f1e9c');
    expect(rows[0]!.whole).not.toContain(Buffer.from('smtp-pass-5f1e9c').toString('hex'));
    expect(rows[0]!.whole).not.toContain(Buffer.from('smtp-pass-5f1e9c').toString('base64'));
  });

  it('sends a workspace email through its own authenticated SMTP pool', async () => {
    const adapter = await delivery.app.get(ChannelRegistry).adapterFor(delivery.workspaceId, 'email');
    expect(adapter?.provider).toBe('smtp');
    const result = await adapter!.send(message(delivery.workspaceId, { html: '<p>Hello <b>Kim</b></p>' }));
    expect(result.response).toMatch(/^250/);

    expect(workspaceSmtp.mails).toHaveLength(1);
    expect(envSmtp.mails).toHaveLength(0);
    const mail = workspaceSmtp.mails[0]!;
    expect(mail.user).toBe('acme');
    expect(mail.rcpt).toEqual(['kim@example.com']);
    const parsed = await simpleParser(mail.raw);
    expect(parsed.subject).toBe('Your statement');
    expect(parsed.text?.trim()).toBe('Hello Kim');
    expect(parsed.html).toContain('<b>Kim</b>');
    expect(parsed.from?.text).toContain('news@acme.test');
    expect(parsed.headers.get('x-cdp-message-id')).toBe('msg-1');
    expect(parsed.messageId).toBe(result.providerMessageId);
    expect(result.providerMessageId).toBe('<msg-1@acme.test>');
  });

  it('re-encrypts under a new first key at start, so the old key can then be dropped', async () => {
    await delivery.restart({ DELIVERY_SECRET_KEYS: `${newKey},${oldKey}` });
    const adapter = await delivery.app.get(ChannelRegistry).adapterFor(delivery.workspaceId, 'email');
    await adapter!.send(message(delivery.workspaceId, { messageId: 'msg-2' }));
    expect(workspaceSmtp.mails).toHaveLength(2);

    // Re-encrypted under the new first key when the service started.
    const [row] = await delivery.prisma.deliveryProvider.findMany();
    expect(row!.secretKeyId).toBe('k2');
    expect(await delivery.app.get(ProvidersService).reencryptAll()).toBe(0);

    // The old key can now go.
    await delivery.restart({ DELIVERY_SECRET_KEYS: newKey });
    const list = await call('GET', '/v1/providers');
    expect(list.json()[0].secrets).toEqual({ password: '********' });
    const again = await delivery.app.get(ChannelRegistry).adapterFor(delivery.workspaceId, 'email');
    await again!.send(message(delivery.workspaceId, { messageId: 'msg-3' }));
    expect(workspaceSmtp.mails).toHaveLength(3);
  });

  it('hands out an HTTP provider built from the stored settings and decrypted secret', async () => {
    const signingSecret = 'whsec_registry_0123456789';
    const receiver = await new LocalServer((req) => {
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-cdp-signature']));
      assert(match, 'no signature');
      const expected = createHmac('sha256', signingSecret)
        .update(`${match[1]}.${req.body.toString('utf8')}`)
        .digest('hex');
      assert(expected === match[2], 'signature mismatch');
      return { status: 200 };
    }).start();
    try {
      const put = await call('PUT', '/v1/providers/webhook', {
        provider: 'webhook',
        settings: { url: `${receiver.url}/cdp` },
        secrets: { signingSecret },
      });
      expect(put.statusCode).toBe(200);
      const adapter = await delivery.app.get(ChannelRegistry).adapterFor(delivery.workspaceId, 'webhook');
      expect(adapter?.provider).toBe('webhook');
      await adapter!.send(message(delivery.workspaceId, { channel: 'webhook', recipient: 'crm' }));
      expect(receiver.failures).toEqual([]);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('falls back to the environment SMTP relay once the provider is deleted', async () => {
    expect((await call('DELETE', '/v1/providers/email')).statusCode).toBe(204);
    expect((await call('DELETE', '/v1/providers/email')).statusCode).toBe(404);
    const registry = delivery.app.get(ChannelRegistry);
    const adapter = await registry.adapterFor(delivery.workspaceId, 'email');
    await adapter!.send(message(delivery.workspaceId, { messageId: 'msg-4' }));
    expect(envSmtp.mails).toHaveLength(1);
    expect(workspaceSmtp.mails).toHaveLength(3);
    expect(await registry.adapterFor(delivery.workspaceId, 'sms')).toBeUndefined();
  });
});
