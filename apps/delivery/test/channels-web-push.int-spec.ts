/**
 * Web Push against a local push service (HTTPS, as RFC 8030 requires) that does what a browser's
 * push service and the browser do: verifies the VAPID JWT (RFC 8292) with the application server's
 * public key and decrypts the aes128gcm payload (RFC 8291) with the subscription's private key.
 */
import { createECDH, createPublicKey, randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { decrypt } from 'http_ece';
import { jwtVerify } from 'jose';
import { generateVAPIDKeys } from 'web-push';
import { RecipientGoneError, SendError, type OutboundMessage } from '../src/channels/channel-adapter';
import { WebPushAdapter } from '../src/channels/web-push.adapter';
import { assert, LocalServer, selfSignedCertificate, type Reply } from '@cdp/testing';

function p256PublicKey(raw: Buffer) {
  assert(raw.length === 65 && raw[0] === 4, 'k must be an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

describe('Web Push (RFC 8030/8291/8292)', () => {
  const vapid = generateVAPIDKeys();
  const browserKeys = createECDH('prime256v1');
  browserKeys.generateKeys();
  const authSecret = randomBytes(16).toString('base64url');
  const tls = selfSignedCertificate();
  const decrypted: string[] = [];

  const pushService: LocalServer = new LocalServer(async (req): Promise<Reply> => {
    if (req.path.startsWith('/push/gone')) return { status: 410 };
    assert(req.method === 'POST' && req.path === '/push/sub-1', `unexpected ${req.method} ${req.path}`);
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    assert(auth, `Authorization must be "vapid t=<jwt>, k=<key>", got "${req.headers.authorization}"`);
    assert(auth[2] === vapid.publicKey, 'k is not the application server key');
    const { payload } = await jwtVerify(auth[1]!, p256PublicKey(Buffer.from(auth[2], 'base64url')), {
      algorithms: ['ES256'],
      audience: pushService.url,
      subject: 'mailto:ops@acme.test',
    });
    assert(
      typeof payload.exp === 'number' && payload.exp - Date.now() / 1000 <= 24 * 3600,
      'exp more than 24 h ahead',
    );
    assert(req.headers['content-encoding'] === 'aes128gcm', 'Content-Encoding must be aes128gcm');
    assert(req.headers.ttl === '3600', `TTL header ${String(req.headers.ttl)}`);
    const plain = decrypt(req.body, { version: 'aes128gcm', privateKey: browserKeys, authSecret });
    decrypted.push(plain.toString('utf8'));
    return { status: 201, headers: { location: `${pushService.url}/messages/m-77` } };
  });

  const subscription = (path: string) =>
    JSON.stringify({
      endpoint: `${pushService.url}${path}`,
      keys: { p256dh: browserKeys.getPublicKey().toString('base64url'), auth: authSecret },
    });

  const message: OutboundMessage = {
    messageId: 'msg-push-1',
    idempotencyKey: 'idem-push-1',
    workspaceId: 'ws-1',
    customerId: 'cust-1',
    channel: 'push',
    recipient: '',
    subject: '적금 만기 안내',
    text: 'Your deposit matures tomorrow.',
    data: { url: '/deposits/42' },
  };
  let agent: Agent;
  let adapter: WebPushAdapter;

  beforeAll(async () => {
    await pushService.start(tls);
    agent = new Agent({ ca: tls.cert });
    adapter = new WebPushAdapter({
      vapidSubject: 'mailto:ops@acme.test',
      vapidPublicKey: vapid.publicKey,
      vapidPrivateKey: vapid.privateKey,
      ttlSeconds: 3600,
      timeoutMs: 5000,
      agent,
    });
  });
  afterAll(async () => {
    agent.destroy();
    await pushService.close();
  });

  it('delivers a payload only the subscriber can decrypt, signed with VAPID', async () => {
    const result = await adapter.send({ ...message, recipient: subscription('/push/sub-1') });
    expect(pushService.failures).toEqual([]);
    expect(result).toEqual({
      provider: 'webpush',
      providerMessageId: `${pushService.url}/messages/m-77`,
      response: '201',
    });
    expect(decrypted).toHaveLength(1);
    expect(JSON.parse(decrypted[0]!)).toEqual({
      messageId: 'msg-push-1',
      title: '적금 만기 안내',
      body: 'Your deposit matures tomorrow.',
      data: { url: '/deposits/42' },
    });
    // What travelled was ciphertext.
    expect(pushService.requests.at(-1)!.body.toString('utf8')).not.toContain('deposit');
  });

  it('treats a gone subscription (410) as gone for good', async () => {
    const error = await adapter
      .send({ ...message, recipient: subscription('/push/gone') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).permanent).toBe(true);
    expect((error as SendError).message).toContain('410');
    expect(error).toBeInstanceOf(RecipientGoneError);
  });

  it('refuses a recipient that is not a subscription', async () => {
    const error = await adapter.send({ ...message, recipient: 'not json' }).catch((e: unknown) => e);
    expect((error as SendError).permanent).toBe(true);
  });
});
