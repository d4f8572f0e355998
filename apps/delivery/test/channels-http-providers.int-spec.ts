/**
 * SendGrid, Twilio, FCM and signed webhooks, each against a local server that speaks the
 * provider's protocol and checks what it receives (auth, shape, headers), as the provider would.
 */
import { createHmac, generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import { importSPKI, jwtVerify } from 'jose';
import { RecipientGoneError, SendError, type OutboundMessage } from '../src/channels/channel-adapter';
import { AccessTokenCache, FCM_SCOPE, FcmPushAdapter } from '../src/channels/fcm-push.adapter';
import { SendGridEmailAdapter } from '../src/channels/sendgrid-email.adapter';
import { statusCallbackUrls, TwilioSmsAdapter } from '../src/channels/twilio-sms.adapter';
import { WebhookAdapter } from '../src/channels/webhook.adapter';
import { assert, LocalServer, type ReceivedRequest, type Reply } from '@cdp/testing';

const base: OutboundMessage = {
  messageId: 'a3c1e0a4-3f8c-4c1e-9d1e-1f2a3b4c5d6e',
  idempotencyKey: 'run-7:cust-9:email:0',
  workspaceId: 'ws-1',
  customerId: 'cust-9',
  channel: 'email',
  recipient: 'lee@example.com',
  subject: 'Rate change',
  text: 'Your rate changes on 1 March.',
};

async function sendError(promise: Promise<unknown>): Promise<SendError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof SendError) return e;
    throw e;
  }
  throw new Error('expected a SendError');
}

function json(request: ReceivedRequest): Record<string, unknown> {
  return JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
}

describe('SendGrid v3 mail send', () => {
  const API_KEY = 'SG.test-key.abc123';
  let answer: 'accept' | 'reject' | 'throttle' | 'down' = 'accept';
  const sendgrid = new LocalServer((req): Reply => {
    assert(req.method === 'POST' && req.path === '/v3/mail/send', `unexpected ${req.method} ${req.path}`);
    assert(req.headers.authorization === `Bearer ${API_KEY}`, 'bad Authorization');
    assert(req.headers['content-type']?.startsWith('application/json'), 'not JSON');
    const body = json(req) as {
      personalizations?: { to?: { email?: string }[] }[];
      from?: { email?: string };
      subject?: string;
      content?: { type: string; value: string }[];
      custom_args?: Record<string, string>;
    };
    assert(body.personalizations?.[0]?.to?.[0]?.email, 'personalizations[0].to[0].email is required');
    assert(body.from?.email, 'from.email is required');
    assert(typeof body.subject === 'string', 'subject is required');
    assert(body.content?.[0]?.type === 'text/plain', 'content must start with text/plain');
    assert(
      Object.values(body.custom_args ?? {}).every((v) => typeof v === 'string'),
      'custom_args must be strings',
    );
    if (answer === 'reject')
      return {
        status: 400,
        body: JSON.stringify({
          errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }],
        }),
      };
    if (answer === 'throttle') return { status: 429, headers: { 'retry-after': '7' }, body: '{"errors":[]}' };
    if (answer === 'down') return { status: 503, body: 'unavailable' };
    return { status: 202, headers: { 'x-message-id': 'sg-msg-4711' } };
  });
  let adapter: SendGridEmailAdapter;

  beforeAll(async () => {
    await sendgrid.start();
    adapter = new SendGridEmailAdapter({
      apiKey: API_KEY,
      from: 'news@acme.test',
      fromName: 'Acme',
      baseUrl: sendgrid.url,
      timeoutMs: 5000,
    });
  });
  afterAll(() => sendgrid.close());

  it('posts the v3 JSON with our message id in custom_args and returns X-Message-Id', async () => {
    const result = await adapter.send({ ...base, html: '<p>Your rate</p>' });
    expect(sendgrid.failures).toEqual([]);
    expect(result).toEqual({ provider: 'sendgrid', providerMessageId: 'sg-msg-4711', response: '202' });
    expect(json(sendgrid.requests.at(-1)!)).toEqual({
      personalizations: [{ to: [{ email: 'lee@example.com' }] }],
      from: { email: 'news@acme.test', name: 'Acme' },
      subject: 'Rate change',
      content: [
        { type: 'text/plain', value: 'Your rate changes on 1 March.' },
        { type: 'text/html', value: '<p>Your rate</p>' },
      ],
      custom_args: { cdp_message_id: base.messageId, cdp_workspace_id: 'ws-1' },
    });
  });

  it('treats a 400 as permanent', async () => {
    answer = 'reject';
    const error = await sendError(adapter.send(base));
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('valid address');
  });

  it('treats a 429 as transient and honours Retry-After', async () => {
    answer = 'throttle';
    const error = await sendError(adapter.send(base));
    expect(error.permanent).toBe(false);
    expect(error.retryAfterMs).toBe(7000);
  });

  it('treats a 5xx as transient', async () => {
    answer = 'down';
    expect((await sendError(adapter.send(base))).permanent).toBe(false);
  });

  it('treats a wrong API key (401) as permanent', async () => {
    answer = 'accept';
    const wrongKey = new SendGridEmailAdapter({
      apiKey: 'SG.wrong',
      from: 'news@acme.test',
      baseUrl: sendgrid.url,
      timeoutMs: 5000,
    });
    const error = await sendError(wrongKey.send(base));
    expect(sendgrid.failures.at(-1)).toBe('bad Authorization');
    expect(error.permanent).toBe(true);
  });

  it('treats an unreachable API as transient', async () => {
    const nowhere = new SendGridEmailAdapter({
      apiKey: API_KEY,
      from: 'news@acme.test',
      baseUrl: 'http://127.0.0.1:9',
      timeoutMs: 2000,
    });
    expect((await sendError(nowhere.send(base))).permanent).toBe(false);
  });
});

describe('Twilio Messages API', () => {
  const SID = `AC${'a1'.repeat(16)}`;
  const TOKEN = 'twilio-token-0042';
  const twilio = new LocalServer((req) => {
    assert(
      req.method === 'POST' && req.path === `/2010-04-01/Accounts/${SID}/Messages.json`,
      `unexpected ${req.path}`,
    );
    assert(
      req.headers.authorization === `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`,
      'bad Basic auth',
    );
    assert(req.headers['content-type'] === 'application/x-www-form-urlencoded', 'not form-encoded');
    assert(typeof req.headers['i-twilio-idempotency-token'] === 'string', 'no idempotency token');
    const form = new URLSearchParams(req.body.toString('utf8'));
    for (const field of ['To', 'From', 'Body']) assert(form.get(field), `${field} is required`);
    return {
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sid: `SM${'f0'.repeat(16)}`, status: 'queued', to: form.get('To') }),
    };
  });
  let adapter: TwilioSmsAdapter;

  beforeAll(async () => {
    await twilio.start();
    adapter = new TwilioSmsAdapter({
      accountSid: SID,
      authToken: TOKEN,
      from: '+15005550006',
      statusCallbackUrl: 'https://cdp.example.com/v1/receipts/twilio',
      baseUrl: twilio.url,
      timeoutMs: 5000,
    });
  });
  afterAll(() => twilio.close());

  it('posts the form with Basic auth and our idempotency key, and returns the sid', async () => {
    const result = await adapter.send({ ...base, channel: 'sms', recipient: '+821012345678' });
    expect(twilio.failures).toEqual([]);
    expect(result).toEqual({
      provider: 'twilio',
      providerMessageId: `SM${'f0'.repeat(16)}`,
      response: '201 queued',
    });
    const request = twilio.requests.at(-1)!;
    expect(request.headers['i-twilio-idempotency-token']).toBe(base.idempotencyKey);
    expect(Object.fromEntries(new URLSearchParams(request.body.toString('utf8')))).toEqual({
      To: '+821012345678',
      From: '+15005550006',
      Body: 'Your rate changes on 1 March.',
      // Our ledger id rides in the callback URL, which Twilio signs.
      StatusCallback: `https://cdp.example.com/v1/receipts/twilio?cdpMessageId=${base.messageId}`,
    });
  });

  it("keeps the callback URL's own query and puts our id in it once", () => {
    const callbackFor = statusCallbackUrls('https://cdp.example.com/r/twilio?tenant=a&cdpMessageId=x#frag');
    expect(callbackFor('m-1')).toBe('https://cdp.example.com/r/twilio?tenant=a&cdpMessageId=m-1');
  });

  it('needs no look-up by SID when the callbacks come to our URL, and does without it', () => {
    expect(adapter.receiptsByProviderId).toBe(false);
    const withoutCallback = new TwilioSmsAdapter({
      accountSid: SID,
      authToken: TOKEN,
      from: '+15005550006',
      baseUrl: twilio.url,
      timeoutMs: 5000,
    });
    expect(withoutCallback.receiptsByProviderId).toBe(true);
  });

  it('refuses a number that is not E.164 without calling Twilio', async () => {
    const before = twilio.requests.length;
    const error = await sendError(adapter.send({ ...base, channel: 'sms', recipient: '010-1234-5678' }));
    expect(error.permanent).toBe(true);
    expect(twilio.requests).toHaveLength(before);
  });
});

describe('signed webhook', () => {
  const SECRET = 'whsec_0123456789abcdef';
  const receiver = new LocalServer((req) => {
    // What a receiver does: recompute the HMAC over "<t>.<raw body>" and compare in constant time.
    const header = String(req.headers['x-cdp-signature'] ?? '');
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    assert(match, `malformed X-CDP-Signature "${header}"`);
    const expected = createHmac('sha256', SECRET)
      .update(`${match[1]}.${req.body.toString('utf8')}`)
      .digest();
    assert(timingSafeEqual(expected, Buffer.from(match[2]!, 'hex')), 'signature mismatch');
    assert(Math.abs(Date.now() / 1000 - Number(match[1])) < 300, 'timestamp too old');
    assert(req.headers['idempotency-key'], 'no Idempotency-Key');
    return { status: 204 };
  });

  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());

  it('posts JSON the receiver can verify', async () => {
    const adapter = new WebhookAdapter({
      url: `${receiver.url}/hooks/cdp`,
      signingSecret: SECRET,
      timeoutMs: 5000,
    });
    const result = await adapter.send({
      ...base,
      channel: 'webhook',
      recipient: 'crm',
      data: { offer: 'A1' },
    });
    expect(receiver.failures).toEqual([]);
    expect(result.response).toBe('204');
    const request = receiver.requests.at(-1)!;
    expect(request.path).toBe('/hooks/cdp');
    expect(request.headers['idempotency-key']).toBe(base.idempotencyKey);
    expect(json(request)).toMatchObject({ id: base.messageId, text: base.text, data: { offer: 'A1' } });
  });

  it('is refused by the receiver when signed with another secret', async () => {
    const adapter = new WebhookAdapter({
      url: receiver.url,
      signingSecret: 'whsec_not-the-right-one',
      timeoutMs: 5000,
    });
    const error = await sendError(adapter.send({ ...base, channel: 'webhook' }));
    expect(receiver.failures.at(-1)).toBe('signature mismatch');
    expect(error.permanent).toBe(true);
  });
});

describe('FCM HTTP v1 with the service-account JWT bearer flow', () => {
  const CLIENT_EMAIL = 'cdp-sender@acme-app.iam.gserviceaccount.com';
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issued: string[] = [];
  let tokenUrl = '';

  const tokenEndpoint = new LocalServer(async (req) => {
    assert(req.method === 'POST', 'token endpoint takes POST');
    assert(req.headers['content-type'] === 'application/x-www-form-urlencoded', 'not form-encoded');
    const form = new URLSearchParams(req.body.toString('utf8'));
    assert(form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'wrong grant_type');
    const key = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
    const { payload, protectedHeader } = await jwtVerify(form.get('assertion') ?? '', key, {
      issuer: CLIENT_EMAIL,
      audience: tokenUrl,
      algorithms: ['RS256'],
    });
    assert(protectedHeader.typ === 'JWT', 'typ must be JWT');
    assert(payload.scope === FCM_SCOPE, `wrong scope ${String(payload.scope)}`);
    assert(typeof payload.iat === 'number' && payload.exp === payload.iat + 3600, 'exp must be iat + 1 h');
    const accessToken = `ya29.test-${issued.length + 1}`;
    issued.push(accessToken);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }),
    };
  });

  const fcm = new LocalServer((req) => {
    assert(
      req.method === 'POST' && req.path === '/v1/projects/acme-app/messages:send',
      `unexpected ${req.path}`,
    );
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !issued.includes(token))
      return { status: 401, body: JSON.stringify({ error: { status: 'UNAUTHENTICATED' } }) };
    const { message } = json(req) as {
      message?: {
        token?: string;
        notification?: { title?: string; body?: string };
        data?: Record<string, unknown>;
      };
    };
    assert(message?.token, 'message.token is required');
    assert(
      Object.values(message.data ?? {}).every((v) => typeof v === 'string'),
      'data values must be strings',
    );
    if (message.token === 'gone-token-0000')
      return {
        status: 404,
        body: JSON.stringify({ error: { status: 'NOT_FOUND', details: [{ errorCode: 'UNREGISTERED' }] } }),
      };
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'projects/acme-app/messages/0:1700000000000000%abc' }),
    };
  });
  let adapter: FcmPushAdapter;

  beforeAll(async () => {
    await tokenEndpoint.start();
    await fcm.start();
    tokenUrl = `${tokenEndpoint.url}/token`;
    adapter = new FcmPushAdapter(
      {
        projectId: 'acme-app',
        clientEmail: CLIENT_EMAIL,
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        tokenUrl,
        baseUrl: fcm.url,
        timeoutMs: 5000,
      },
      new AccessTokenCache(),
    );
  });
  afterAll(async () => {
    await tokenEndpoint.close();
    await fcm.close();
  });

  it('gets an access token with a signed JWT and sends the message with it', async () => {
    const result = await adapter.send({
      ...base,
      channel: 'push',
      recipient: 'device-token-1234567890',
      data: { deepLink: '/offers/7', n: 3 },
    });
    expect(tokenEndpoint.failures).toEqual([]);
    expect(fcm.failures).toEqual([]);
    expect(result).toEqual({
      provider: 'fcm',
      providerMessageId: 'projects/acme-app/messages/0:1700000000000000%abc',
      response: '200',
    });
    expect(fcm.requests.at(-1)!.headers.authorization).toBe('Bearer ya29.test-1');
    expect(json(fcm.requests.at(-1)!)).toEqual({
      message: {
        token: 'device-token-1234567890',
        notification: { title: 'Rate change', body: 'Your rate changes on 1 March.' },
        data: { deepLink: '/offers/7', n: '3', cdp_message_id: base.messageId },
      },
    });
  });

  it('reuses the cached token until it expires', async () => {
    await adapter.send({ ...base, channel: 'push', recipient: 'device-token-1234567890' });
    expect(tokenEndpoint.requests).toHaveLength(1);
    expect(fcm.requests.at(-1)!.headers.authorization).toBe('Bearer ya29.test-1');
  });

  it('treats an unregistered token as gone for good', async () => {
    const error = await sendError(adapter.send({ ...base, channel: 'push', recipient: 'gone-token-0000' }));
    expect(error.permanent).toBe(true);
    expect(error).toBeInstanceOf(RecipientGoneError);
  });

  it('fetches a new token after the old one is refused', async () => {
    issued.splice(0, issued.length, 'ya29.some-other');
    const error = await sendError(
      adapter.send({ ...base, channel: 'push', recipient: 'device-token-1234567890' }),
    );
    expect(error.permanent).toBe(false);
    await adapter.send({ ...base, channel: 'push', recipient: 'device-token-1234567890' });
    expect(tokenEndpoint.requests).toHaveLength(2);
    expect(fcm.requests.at(-1)!.headers.authorization).toBe('Bearer ya29.test-2');
  });
});
