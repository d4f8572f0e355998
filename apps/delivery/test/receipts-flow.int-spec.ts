import { cleanUpRun, freePort } from '@cdp/testing';
// Receipts through the in-process delivery app on the real local Postgres and NATS JetStream:
// signed SendGrid and Twilio webhooks (real keys and signatures), a DSN from a mail pipe or over SMTP, the open
// pixel, click redirect and one-click unsubscribe, the ledger rows and the events on a prefixed subject.
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { streamName, type PayloadOf, type Subjects } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { createService, loadConfig } from '@cdp/service-kit';
import { AppModule } from '../src/app.module';
import { DeliveryConfigSchema } from '../src/config';
import { TrackingLinks } from '../src/receipts/tracking-links';
import { bounceFor, deliverOverSmtp } from './support/bounces';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PUBLIC_BASE = 'https://mail.example-bank.test/delivery';
const TWILIO_TOKEN = 'twilio-auth-token-for-tests';
const DSN_TOKEN = randomBytes(24).toString('hex');

type Status = PayloadOf<typeof Subjects.deliveryStatus>;
type Consent = PayloadOf<typeof Subjects.consentChanged>;

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('delivery receipts', () => {
  const prefix = `t_receipts_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const sendGridKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestFastifyApplication;
  let nc: NatsConnection;
  let consumer: ConsumerMessages;
  const statuses: Status[] = [];
  const consents: Consent[] = [];
  let workspaceId: string;
  let customerId: string;
  let dsnSmtpPort: number;

  beforeAll(async () => {
    dsnSmtpPort = await freePort();
    database = await createTestDatabase(`cdp_test_${prefix}`);
    db = createPrismaClient(database.url, { max: 2 });
    const config = loadConfig(DeliveryConfigSchema, {
      DATABASE_URL: database.url,
      DELIVERY_SECRET_KEYS: `test:${randomBytes(32).toString('base64')}`,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DELIVERY_PUBLIC_BASE_URL: PUBLIC_BASE,
      DELIVERY_LINK_SECRET: randomBytes(32).toString('base64url'),
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendGridKeys.publicKey
        .export({ format: 'der', type: 'spki' })
        .toString('base64'),
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      DSN_WEBHOOK_TOKEN: DSN_TOKEN,
      DSN_SMTP_PORT: String(dsnSmtpPort),
      DSN_SMTP_HOST: '127.0.0.1',
    });
    app = await createService(
      { service: 'delivery', configSchema: DeliveryConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();

    const workspace = await db.workspace.create({ data: { slug: prefix, name: 'Receipts bank' } });
    workspaceId = workspace.id;
    customerId = (
      await db.customer.create({
        data: { workspaceId, customerCode: 'C0000000000000001', email: 'ada@example.com' },
      })
    ).id;

    // The app's publisher created the streams on init; read what it emits from the start.
    nc = await connect({ servers: NATS_URL });
    const js = jetstream(nc);
    const stream = streamName(prefix, 'DELIVERY');
    await jetstreamManager(nc).then((jsm) => jsm.streams.info(stream));
    const ordered = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    consumer = await ordered.consume();
    void (async () => {
      for await (const m of consumer) {
        if (m.subject.startsWith(`${prefix}.cdp.delivery.status.`)) statuses.push(m.json<Status>());
        if (m.subject.startsWith(`${prefix}.cdp.consent.changed.`)) consents.push(m.json<Consent>());
      }
    })();
  });

  afterAll(async () => {
    await consumer?.close();
    await app?.close();
    if (nc) {
      await nc.close();
    }
    await db?.$disconnect();
    await database?.drop();
    await cleanUpRun(prefix);
  });

  async function sentMessage(
    overrides: { provider?: string; providerMessageId?: string; channel?: 'email' | 'sms' } = {},
  ) {
    const provider = overrides.provider ?? 'sendgrid';
    const providerMessageId = overrides.providerMessageId ?? randomBytes(11).toString('base64url');
    // As the send path leaves it: the row marked sent, and the provider's id recorded for receipts.
    return db.message.create({
      data: {
        idempotencyKey: randomUUID(),
        workspaceId,
        customerId,
        channel: overrides.channel ?? 'email',
        recipient: overrides.channel === 'sms' ? '+821012345678' : 'ada@example.com',
        status: 'sent',
        provider,
        providerMessageId,
        providerIds: { create: { provider, providerMessageId, workspaceId } },
        sentAt: new Date(),
      },
    });
  }

  const ledger = (id: string) => db.message.findUniqueOrThrow({ where: { id } });
  const statusOf = (messageId: string, status: string) =>
    waitFor(`${status} of ${messageId}`, () =>
      statuses.find((s) => s.messageId === messageId && s.status === status),
    );

  /** Signs as SendGrid does: ECDSA P-256 / SHA-256 over timestamp + raw body, DER signature in base64. */
  function signSendGrid(body: string, key: KeyObject = sendGridKeys.privateKey) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), key).toString('base64');
    return {
      'content-type': 'application/json',
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    };
  }

  const postSendGrid = (body: string, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/v1/receipts/sendgrid', payload: body, headers });

  describe('SendGrid Event Webhook', () => {
    it('records delivered, open and click; a late "delivered" keeps the open and fills deliveredAt', async () => {
      const message = await sentMessage();
      const t = Math.floor(Date.now() / 1000);
      const open = JSON.stringify([
        {
          email: 'ada@example.com',
          timestamp: t,
          event: 'open',
          sg_message_id: `${message.providerMessageId}.filter0001.1.0`,
          sg_event_id: 'e1',
        },
        {
          email: 'ada@example.com',
          timestamp: t,
          event: 'processed',
          cdp_message_id: message.id,
          sg_event_id: 'e0',
        },
      ]);
      const res = await postSendGrid(open, signSendGrid(open));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ applied: 1, unmatched: 0, ignored: 1 });
      expect(await ledger(message.id)).toMatchObject({ status: 'opened', deliveredAt: null });

      const late = JSON.stringify([
        {
          email: 'ada@example.com',
          timestamp: t + 1,
          event: 'delivered',
          cdp_message_id: message.id,
          response: '250 OK',
        },
      ]);
      expect((await postSendGrid(late, signSendGrid(late))).json()).toEqual({
        applied: 1,
        unmatched: 0,
        ignored: 0,
      });
      const row = await ledger(message.id);
      expect(row.status).toBe('opened');
      expect(row.deliveredAt?.toISOString()).toBe(new Date((t + 1) * 1000).toISOString());
      expect((await statusOf(message.id, 'delivered')).at).toBe(row.deliveredAt?.toISOString());
      // SendGrid retrying the same batch: matched, nothing changes, nothing is published again.
      expect((await postSendGrid(late, signSendGrid(late))).json()).toEqual({
        applied: 1,
        unmatched: 0,
        ignored: 0,
      });
      expect(await ledger(message.id)).toEqual(row);
      await sleep(200);
      expect(statuses.filter((s) => s.messageId === message.id && s.status === 'delivered')).toHaveLength(1);
      expect(await statusOf(message.id, 'opened')).toMatchObject({
        customerId,
        channel: 'email',
        provider: 'sendgrid',
      });
    });

    it('maps bounce to bounced with the reason, spamreport to complained (and withdraws marketing consent)', async () => {
      const bounced = await sentMessage();
      const complained = await sentMessage();
      const t = Math.floor(Date.now() / 1000);
      const body = JSON.stringify([
        {
          email: 'x@example.net',
          timestamp: t,
          event: 'bounce',
          type: 'bounce',
          status: '5.1.1',
          reason: '550 5.1.1 user unknown',
          cdp_message_id: bounced.id,
        },
        { email: 'ada@example.com', timestamp: t, event: 'delivered', cdp_message_id: complained.id },
        { email: 'ada@example.com', timestamp: t + 5, event: 'spamreport', cdp_message_id: complained.id },
        { email: 'ghost@example.com', timestamp: t, event: 'delivered', cdp_message_id: randomUUID() },
      ]);
      expect((await postSendGrid(body, signSendGrid(body))).json()).toEqual({
        applied: 3,
        unmatched: 1,
        ignored: 0,
      });
      expect(await ledger(bounced.id)).toMatchObject({
        status: 'bounced',
        error: 'bounce: 550 5.1.1 user unknown: 5.1.1',
      });
      const complaint = await ledger(complained.id);
      expect(complaint.status).toBe('complained');
      expect(complaint.complainedAt?.toISOString()).toBe(new Date((t + 5) * 1000).toISOString());
      expect((await ledger(bounced.id)).bouncedAt?.toISOString()).toBe(new Date(t * 1000).toISOString());
      expect(await statusOf(bounced.id, 'bounced')).toMatchObject({
        reason: expect.stringContaining('user unknown'),
        recipientGone: true,
        recipient: 'ada@example.com',
      });
      expect((await statusOf(complained.id, 'complained')).recipientGone).toBeUndefined();
      await statusOf(complained.id, 'complained');
      // A complaint is an unsubscribe: marketing email to this customer stops.
      const withdrawn = await waitFor('consent withdrawn on the complaint', () =>
        consents.find((c) => c.evidence?.messageId === complained.id),
      );
      expect(withdrawn).toMatchObject({
        customerId: complained.customerId,
        purpose: 'marketing',
        channel: 'email',
        status: 'withdrawn',
        source: 'spam-complaint',
      });
      expect(consents.find((c) => c.evidence?.messageId === bounced.id)).toBeUndefined();
    });

    it('refuses unsigned (401), wrongly signed (403) and altered (403) batches and changes nothing', async () => {
      const message = await sentMessage();
      const body = JSON.stringify([{ timestamp: 1, event: 'delivered', cdp_message_id: message.id }]);
      expect((await postSendGrid(body, { 'content-type': 'application/json' })).statusCode).toBe(401);
      expect((await postSendGrid(body, signSendGrid(body, otherKeys.privateKey))).statusCode).toBe(403);
      const headers = signSendGrid(body);
      expect((await postSendGrid(body.replace('delivered', 'bounce'), headers)).statusCode).toBe(403);
      // Same JSON value, different bytes: the signature covers the bytes.
      expect((await postSendGrid(` ${body}`, headers)).statusCode).toBe(403);
      expect(await ledger(message.id)).toMatchObject({ status: 'sent', deliveredAt: null });
    });

    it('answers 400 with the field path for a signed but malformed batch', async () => {
      const body = JSON.stringify([{ event: 'delivered', timestamp: 'yesterday' }]);
      const res = await postSendGrid(body, signSendGrid(body));
      expect(res.statusCode).toBe(400);
      expect(res.json().issues).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: '/0/timestamp' })]),
      );
    });
  });

  describe('Twilio status callback', () => {
    /** As Twilio documents it: HMAC-SHA1(auth token, URL + each POST param sorted by name as name+value), base64. */
    const twilioSignature = (url: string, params: Record<string, string>) =>
      createHmac('sha1', TWILIO_TOKEN)
        .update(
          url +
            Object.keys(params)
              .sort()
              .map((k) => k + params[k])
              .join(''),
        )
        .digest('base64');
    const post = (params: Record<string, string>, signature?: string, url = '/v1/receipts/twilio') =>
      app.inject({
        method: 'POST',
        url,
        payload: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature !== undefined && { 'x-twilio-signature': signature }),
        },
      });

    it('matches by MessageSid: delivered is recorded, a late "sent" callback changes nothing', async () => {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const message = await sentMessage({ provider: 'twilio', providerMessageId: sid, channel: 'sms' });
      const delivered = {
        AccountSid: `AC${randomBytes(16).toString('hex')}`,
        MessageSid: sid,
        MessageStatus: 'delivered',
        To: '+821012345678',
      };
      const res = await post(delivered, twilioSignature(`${PUBLIC_BASE}/v1/receipts/twilio`, delivered));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ applied: 1, unmatched: 0, ignored: 0 });
      expect(await ledger(message.id)).toMatchObject({ status: 'delivered', channel: 'sms' });
      await statusOf(message.id, 'delivered');

      const sent = { MessageSid: sid, MessageStatus: 'sent' };
      expect((await post(sent, twilioSignature(`${PUBLIC_BASE}/v1/receipts/twilio`, sent))).json()).toEqual({
        applied: 0,
        unmatched: 0,
        ignored: 1,
      });
    });

    it('matches by our message id in the signed callback URL, even before the sent mark recorded the SID', async () => {
      // The row is still `sending`: Twilio answered, and called back, before the ledger's commit.
      const message = await db.message.create({
        data: {
          idempotencyKey: randomUUID(),
          workspaceId,
          customerId,
          channel: 'sms',
          recipient: '+821012345678',
          status: 'sending',
          provider: 'twilio',
        },
      });
      const url = `/v1/receipts/twilio?cdpMessageId=${message.id}`;
      const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, MessageStatus: 'delivered' };
      const res = await post(params, twilioSignature(`${PUBLIC_BASE}${url}`, params), url);
      expect(res.json()).toEqual({ applied: 1, unmatched: 0, ignored: 0 });
      expect(await ledger(message.id)).toMatchObject({ status: 'delivered' });
      await statusOf(message.id, 'delivered');
      // The id is part of what Twilio signed: another one under the same signature is refused.
      const other = `/v1/receipts/twilio?cdpMessageId=${randomUUID()}`;
      expect((await post(params, twilioSignature(`${PUBLIC_BASE}${url}`, params), other)).statusCode).toBe(
        403,
      );
    });

    it('maps undelivered to bounced with the error code', async () => {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const message = await sentMessage({ provider: 'twilio', providerMessageId: sid, channel: 'sms' });
      const params = { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' };
      expect(
        (await post(params, twilioSignature(`${PUBLIC_BASE}/v1/receipts/twilio`, params))).statusCode,
      ).toBe(200);
      expect(await ledger(message.id)).toMatchObject({ status: 'bounced', error: 'twilio error 30003' });
      expect((await statusOf(message.id, 'bounced')).reason).toBe('twilio error 30003');
    });

    it('refuses a missing signature (401), one for another URL or token (403), and an altered parameter (403)', async () => {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const message = await sentMessage({ provider: 'twilio', providerMessageId: sid, channel: 'sms' });
      const params = { MessageSid: sid, MessageStatus: 'delivered' };
      expect((await post(params)).statusCode).toBe(401);
      expect(
        (await post(params, twilioSignature('http://127.0.0.1:3004/v1/receipts/twilio', params))).statusCode,
      ).toBe(403);
      const good = twilioSignature(`${PUBLIC_BASE}/v1/receipts/twilio`, params);
      expect((await post({ ...params, MessageStatus: 'failed' }, good)).statusCode).toBe(403);
      expect(await ledger(message.id)).toMatchObject({ status: 'sent' });
    });
  });

  describe('DSN from a mail pipe', () => {
    const post = (raw: string, token = DSN_TOKEN) =>
      app.inject({
        method: 'POST',
        url: '/v1/receipts/dsn',
        payload: raw,
        headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${token}` },
      });

    it('marks the returned message bounced with the status and diagnostic', async () => {
      const message = await sentMessage({ provider: 'smtp', providerMessageId: '<abc123@cdp.local>' });
      const res = await post(bounceFor(message.id));
      expect(res.json()).toEqual({ applied: 1, unmatched: 0, ignored: 0 });
      const row = await ledger(message.id);
      expect(row.status).toBe('bounced');
      expect(row.error).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1/);
      await statusOf(message.id, 'bounced');
    });

    it('answers 400 for a message that is not a DSN, 403 for a wrong token', async () => {
      const plain = await post('From: a@b.c\r\nSubject: hi\r\n\r\nhello\r\n');
      expect(plain.statusCode).toBe(400);
      expect(plain.json().issues[0].reason).toContain('delivery-status');
      expect((await post(bounceFor(randomUUID()), 'x'.repeat(48))).statusCode).toBe(403);
    });
  });

  describe('DSN over SMTP (DSN_SMTP_PORT)', () => {
    const deliver = (raw: string) => deliverOverSmtp(dsnSmtpPort, raw);

    it('marks the returned message bounced when an MTA delivers its DSN over SMTP', async () => {
      const message = await sentMessage({ provider: 'smtp', providerMessageId: '<smtp-dsn@cdp.local>' });
      const info = await deliver(bounceFor(message.id));
      expect(info.response).toMatch(/^250 /);
      const row = await ledger(message.id);
      expect(row.status).toBe('bounced');
      expect(row.error).toMatch(/^5\.1\.1 smtp; 550 5\.1\.1/);
      await statusOf(message.id, 'bounced');
    });

    it('accepts and drops a mail that is not a DSN, and refuses one over the size limit', async () => {
      const message = await sentMessage({ provider: 'smtp', providerMessageId: '<smtp-ooo@cdp.local>' });
      const reply = `From: ada@example.com\r\nSubject: Out of office\r\nIn-Reply-To: <smtp-ooo@cdp.local>\r\n\r\nBack on Monday.\r\n`;
      expect((await deliver(reply)).response).toMatch(/^250 /);
      expect(await ledger(message.id)).toMatchObject({ status: 'sent' });
      const huge = `Subject: big\r\n\r\n${'x'.repeat(1024 * 1024 + 10)}\r\n`;
      await expect(deliver(huge)).rejects.toMatchObject({ responseCode: 552 });
    });
  });

  describe('tracking links and one-click unsubscribe', () => {
    const links = () => app.get(TrackingLinks);
    const local = (url: string) => url.replace(PUBLIC_BASE, '');

    it('instruments an email: click redirects, pixel, List-Unsubscribe headers', async () => {
      const message = await sentMessage();
      const html =
        '<html><body><p>Hi <a href="https://bank.example/offer?a=1&amp;b=2">offer</a> <a href="mailto:x@y.z">mail</a></p></body></html>';
      const out = links().instrumentEmail(html, 'See https://bank.example/offer?a=1&b=2 now', message);
      expect(out.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
      expect(out.headers['List-Unsubscribe']).toMatch(new RegExp(`^<${PUBLIC_BASE}/u/[\\w-]+\\.[\\w-]+>$`));
      expect(out.html).toContain('href="mailto:x@y.z"');
      expect(out.html).toMatch(
        /<img src="https:\/\/mail\.example-bank\.test\/delivery\/t\/o\/[\w.-]+\.gif"[^>]*\/><\/body>/,
      );
      const click = /href="([^"]+\/t\/c\/[^"]+)"/.exec(out.html!)![1]!;
      const textClick = /(https:\S+\/t\/c\/\S+)/.exec(out.text)![1]!;

      const pixel = /src="([^"]+\.gif)"/.exec(out.html!)![1]!;
      const open = await app.inject({ method: 'GET', url: local(pixel) });
      expect(open.statusCode).toBe(200);
      expect(open.headers['content-type']).toBe('image/gif');
      expect(open.headers['cache-control']).toContain('no-store');
      expect(open.rawPayload.subarray(0, 6).toString()).toBe('GIF89a');
      expect((await ledger(message.id)).openedAt).not.toBeNull();
      await statusOf(message.id, 'opened');

      for (const url of [click, textClick]) {
        const res = await app.inject({ method: 'GET', url: local(url) });
        expect(res.statusCode).toBe(302);
        expect(res.headers.location).toBe('https://bank.example/offer?a=1&b=2');
      }
      const clicked = await ledger(message.id);
      expect(clicked.status).toBe('clicked');
      await statusOf(message.id, 'clicked');
      // Once per message: the second click is not published again.
      await sleep(200);
      expect(statuses.filter((s) => s.messageId === message.id && s.status === 'clicked')).toHaveLength(1);
    });

    it('never redirects anywhere but the signed URL', async () => {
      const message = await sentMessage();
      const click = links().clickUrl(message, 'https://bank.example/ok');
      const [body, signature] = local(click).slice('/t/c/'.length).split('.');
      const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, u: 'https://evil.example/' })).toString(
        'base64url',
      );
      expect((await app.inject({ method: 'GET', url: `/t/c/${forged}.${signature}` })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: `/t/c/${body}.${signature}x` })).statusCode).toBe(404);
      // An open-pixel token has no URL: it cannot be used as a redirect either.
      const pixelToken = local(links().openPixelUrl(message))
        .slice('/t/o/'.length)
        .replace(/\.gif$/, '');
      expect((await app.inject({ method: 'GET', url: `/t/c/${pixelToken}` })).statusCode).toBe(404);
      expect((await ledger(message.id)).clickedAt).toBeNull();
    });

    it('unsubscribes with RFC 8058 one-click POST and emits cdp.consent.changed', async () => {
      const message = await sentMessage();
      const url = local(links().unsubscribeUrl(message));
      const page = await app.inject({ method: 'GET', url });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">',
      );
      expect(consents.find((c) => c.evidence?.messageId === message.id)).toBeUndefined();

      const res = await app.inject({
        method: 'POST',
        url,
        payload: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.statusCode).toBe(200);
      const consent = await waitFor('consent change', () =>
        consents.find((c) => c.evidence?.messageId === message.id),
      );
      expect(consent).toMatchObject({
        workspaceId,
        customerId,
        purpose: 'marketing',
        channel: 'email',
        status: 'withdrawn',
        source: 'one-click-unsubscribe',
      });
    });

    it('accepts the one-click POST as multipart/form-data, the encoding RFC 8058 recommends', async () => {
      const message = await sentMessage();
      const boundary = '----cdp1click';
      const res = await app.inject({
        method: 'POST',
        url: local(links().unsubscribeUrl(message)),
        payload: `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      expect(res.statusCode).toBe(200);
      await waitFor('consent change', () => consents.find((c) => c.evidence?.messageId === message.id));
      const broken = await app.inject({
        method: 'POST',
        url: local(links().unsubscribeUrl(message)),
        payload: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'multipart/form-data' },
      });
      expect(broken.statusCode).toBe(400);
    });

    it('refuses a tampered unsubscribe token and a POST without List-Unsubscribe=One-Click', async () => {
      const message = await sentMessage();
      const url = local(links().unsubscribeUrl(message));
      const tampered = url.slice(0, -2) + (url.endsWith('AA') ? 'BB' : 'AA');
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      expect(
        (
          await app.inject({
            method: 'POST',
            url: tampered,
            payload: 'List-Unsubscribe=One-Click',
            headers: form,
          })
        ).statusCode,
      ).toBe(404);
      expect((await app.inject({ method: 'GET', url: tampered })).statusCode).toBe(404);
      const wrong = await app.inject({ method: 'POST', url, payload: 'List-Unsubscribe=Yes', headers: form });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json().issues[0].path).toBe('/List-Unsubscribe');
      await sleep(200);
      expect(consents.find((c) => c.evidence?.messageId === message.id)).toBeUndefined();
    });
  });
});
