/**
 * The walking skeleton: the four services as separate processes on the real local Postgres,
 * Redis and NATS. One tracked event travels the whole pipe and comes back as history:
 * POST /v1/track -> stored -> cdp.event.ingested -> segment (rule in the database) ->
 * cdp.segment.entered -> campaign (stored) -> cdp.delivery.requested -> SMTP ->
 * cdp.delivery.status -> the send in the customer's history.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTestDatabase } from '@cdp/db';
import {
  cleanUpRun,
  NATS_URL,
  testPrefix,
  freePort,
  REPO_ROOT,
  ServiceProcess,
  waitFor,
  SmtpSink,
  assert,
  LocalServer,
} from '@cdp/testing';

const SERVICES = ['collection', 'analysis', 'campaign', 'delivery'] as const;

describe('walking skeleton: track -> segment -> campaign -> email -> history', () => {
  const prefix = testPrefix('e2e');
  const smtp = new SmtpSink();
  let database: { url: string; drop(): Promise<void> };
  let services: Record<(typeof SERVICES)[number], ServiceProcess>;
  let keys: { writeKey: string; apiKey: string; workspaceId: string };

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_e2e_${prefix}`);
    const smtpPort = await freePort();
    await smtp.listen(smtpPort);
    keys = JSON.parse(
      execFileSync(
        process.execPath,
        [join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'), '--workspace', 'e2e-bank', '--json'],
        {
          env: { ...process.env, DATABASE_URL: database.url },
          encoding: 'utf8',
        },
      ),
    );
    const env = {
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      DELIVERY_SECRET_KEYS: `e2e:${randomBytes(32).toString('base64')}`,
    };
    services = Object.fromEntries(
      await Promise.all(
        SERVICES.map(async (name) => [name, new ServiceProcess(name, await freePort(), env)]),
      ),
    ) as typeof services;
    for (const service of Object.values(services)) service.start();
    await Promise.all(Object.values(services).map((s) => s.ready()));
  });

  afterAll(async () => {
    const codes = services ? await Promise.all(Object.values(services).map((s) => s.stop())) : [];
    await smtp.close();
    await cleanUpRun(prefix);
    await database?.drop();
    // Graceful shutdown is part of the contract: every service drains and exits 0 on SIGTERM.
    expect(codes).toEqual(SERVICES.map(() => 0));
  });

  /** What the first test sent, for the erasure test after it. */
  let campaignSend: { customerId: string; segmentId: string } | undefined;

  const json = (res: Response) => res.json() as Promise<any>;
  const manage = (service: ServiceProcess, path: string, body?: unknown) =>
    fetch(`${service.url}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${keys.apiKey}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const tracking = (path: string, body: unknown) =>
    fetch(`${services.collection.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${keys.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  it('sends the campaign email and records it in the customer history', async () => {
    try {
      const segmentRes = await manage(services.analysis, '/v1/segments', {
        name: 'Opened a savings account',
        definition: {
          type: 'event',
          name: 'Account Opened',
          where: [{ property: 'product', op: 'eq', value: 'savings' }],
        },
      });
      expect(segmentRes.status).toBe(201);
      const segment = await json(segmentRes);

      const campaignRes = await manage(services.campaign, '/v1/campaigns', {
        name: 'Savings welcome',
        channel: 'email',
        status: 'active',
        trigger: { type: 'segment_entered', segmentId: segment.id },
        template: {
          subject: 'Welcome, {{ traits.firstName }}',
          body: 'Hello {{ traits.firstName }}, your savings account is open.',
        },
      });
      expect(campaignRes.status).toBe(201);
      const campaign = await json(campaignRes);

      expect(
        (
          await tracking('/v1/identify', {
            userId: 'u-1001',
            traits: { email: 'Ada@Example.com', firstName: 'Ada' },
          })
        ).status,
      ).toBe(200);
      const customer = await waitFor('identified customer', async () => {
        const res = await manage(
          services.collection,
          '/v1/customers?identifierType=email&identifierValue=ada@example.com',
        );
        return res.status === 200 ? json(res) : undefined;
      });
      expect(customer.customerCode).toMatch(/^C[0-9A-Z]{15}$/);

      // Grace withdrew marketing email consent at a branch: she enters the segment, but no email.
      expect(
        (await tracking('/v1/identify', { userId: 'u-1002', traits: { email: 'grace@example.com' } })).status,
      ).toBe(200);
      const grace = await waitFor('the second customer', async () => {
        const res = await manage(
          services.collection,
          '/v1/customers?identifierType=email&identifierValue=grace@example.com',
        );
        return res.status === 200 ? json(res) : undefined;
      });
      const consent = await fetch(`${services.collection.url}/v1/customers/${grace.id}/consents`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${keys.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          purpose: 'marketing',
          channel: 'email',
          status: 'withdrawn',
          source: 'branch',
        }),
      });
      expect(consent.status).toBe(200);
      expect(
        (
          await tracking('/v1/track', {
            userId: 'u-1002',
            event: 'Account Opened',
            properties: { product: 'savings' },
          })
        ).status,
      ).toBe(200);

      // An event that does not meet the rule must not trigger anything.
      expect(
        (
          await tracking('/v1/track', {
            userId: 'u-1001',
            event: 'Account Opened',
            properties: { product: 'loan' },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await tracking('/v1/track', {
            userId: 'u-1001',
            event: 'Account Opened',
            properties: { product: 'savings' },
            context: { channel: 'app' },
          })
        ).status,
      ).toBe(200);

      const mail = await waitFor('the campaign email', async () =>
        smtp.received.find((m) => m.to.includes('ada@example.com')),
      );
      expect(mail.raw).toContain('Subject: Welcome, Ada');
      expect(mail.raw).toContain('Hello Ada, your savings account is open.');

      const history = await waitFor('the send in the customer history', async () => {
        const page = await json(
          await manage(services.collection, `/v1/customers/${customer.id}/events?limit=50`),
        );
        return page.items.some((e: any) => e.name === 'Message Sent') ? page.items : undefined;
      });
      const sent = history.find((e: any) => e.name === 'Message Sent');
      expect(sent).toMatchObject({
        channel: 'email',
        type: 'system',
        properties: { status: 'sent', campaignId: campaign.id },
      });
      expect(
        history
          .filter((e: any) => e.name === 'Account Opened')
          .map((e: any) => e.channel)
          .sort(),
      ).toEqual(['app', 'other']);

      // Campaign saw Grace's entry and left her out for her consent.
      await waitFor('the send skipped for consent', async () =>
        /^campaign_sends_skipped_total\{[^}]*reason="consent"[^}]*\} 1$/m.test(
          await (await fetch(`${services.campaign.url}/metrics`)).text(),
        ),
      );
      const members = await json(await manage(services.analysis, `/v1/segments/${segment.id}/members`));
      expect(members.items.map((m: any) => m.customerId).sort()).toEqual([customer.id, grace.id].sort());
      // Exactly one email for one segment entry, and none to Grace.
      await new Promise((r) => setTimeout(r, 500));
      expect(smtp.received.filter((m) => m.to.includes('ada@example.com'))).toHaveLength(1);
      expect(smtp.received.filter((m) => m.to.includes('grace@example.com'))).toHaveLength(0);
      campaignSend = { customerId: customer.id, segmentId: segment.id };
    } catch (e) {
      for (const s of Object.values(services)) process.stderr.write(`--- ${s.name} ---\n${s.logs()}\n`);
      throw e;
    }
  });

  it('erases the customer everywhere: collection, segment membership, the delivery ledger', async () => {
    if (!campaignSend) throw new Error('the campaign test above did not get as far as the send');
    const { customerId, segmentId } = campaignSend;
    try {
      const erased = await fetch(`${services.collection.url}/v1/customers/${customerId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${keys.apiKey}` },
      });
      expect(erased.status).toBe(200);
      expect(await json(erased)).toMatchObject({ customerId, erasedIds: [customerId] });
      expect((await manage(services.collection, `/v1/customers/${customerId}`)).status).toBe(410);

      // Analysis and delivery act on cdp.customer.erased.
      await waitFor('the membership gone', async () => {
        const members = await json(await manage(services.analysis, `/v1/segments/${segmentId}/members`));
        return !members.items.some((m: any) => m.customerId === customerId);
      });
      const messages = await waitFor('the address gone from the ledger', async () => {
        const page = await json(await manage(services.delivery, `/v1/messages?customerId=${customerId}`));
        return page.items.length > 0 && page.items.every((m: any) => m.recipient === '[erased]')
          ? page.items
          : undefined;
      });
      expect(messages[0]).toMatchObject({ status: 'sent', channel: 'email' });
      expect(JSON.stringify(messages)).not.toContain('ada@example.com');
    } catch (e) {
      for (const s of Object.values(services)) process.stderr.write(`--- ${s.name} ---\n${s.logs()}\n`);
      throw e;
    }
  });

  it('follows a customer through lifecycle segments: leaving "prospects" on becoming contracted sends the welcome', async () => {
    try {
      const prospects = await json(
        await manage(services.analysis, '/v1/segments', {
          name: 'Prospects',
          definition: { type: 'lifecycle', stage: 'prospect' },
        }),
      );
      expect(prospects.id).toEqual(expect.any(String));
      const welcome = await manage(services.campaign, '/v1/campaigns', {
        name: 'Welcome aboard',
        channel: 'email',
        status: 'active',
        trigger: { type: 'segment_exited', segmentId: prospects.id },
        template: { subject: 'Welcome aboard, {{ traits.firstName }}', body: 'Your contract is open.' },
      });
      expect(welcome.status).toBe(201);

      // Lin compares loans (a prospect), then signs a contract (contracted: leaves "prospects").
      expect(
        (
          await tracking('/v1/identify', {
            userId: 'u-2001',
            traits: { email: 'lin@example.com', firstName: 'Lin' },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await tracking('/v1/track', {
            userId: 'u-2001',
            event: 'Loan Compared',
            properties: { journeyStage: 'explore_compare' },
          })
        ).status,
      ).toBe(200);
      const lin = await waitFor('Lin', async () => {
        const res = await manage(
          services.collection,
          '/v1/customers?identifierType=user_id&identifierValue=u-2001',
        );
        return res.status === 200 ? json(res) : undefined;
      });
      await waitFor('Lin among the prospects', async () => {
        const page = await json(await manage(services.analysis, `/v1/customers/${lin.id}/segments`));
        return page.segments.some((s: any) => s.segmentId === prospects.id);
      });
      expect(smtp.received.filter((m) => m.to.includes('lin@example.com'))).toHaveLength(0);

      expect((await tracking('/v1/track', { userId: 'u-2001', event: 'Contract Opened' })).status).toBe(200);
      const mail = await waitFor('the welcome email', async () =>
        smtp.received.find((m) => m.to.includes('lin@example.com')),
      );
      expect(mail.raw).toContain('Subject: Welcome aboard, Lin');

      // The Customer 360 view: contracted, in no segment any more, scored (analysis answers over NATS).
      const view = await json(await manage(services.collection, `/v1/customers/${lin.id}/360`));
      expect(view).toMatchObject({
        customer: { id: lin.id, lifecycleStage: 'contracted' },
        restricted: false,
        segments: [],
        scores: [{ model: 'customer_value', modelVersion: 'rfm-decay-2', value: expect.any(Number) }],
        unavailable: [],
      });
      expect(view.recentEvents.map((e: any) => e.name)).toEqual(
        expect.arrayContaining(['Loan Compared', 'Contract Opened']),
      );
    } catch (e) {
      for (const s of Object.values(services)) process.stderr.write(`--- ${s.name} ---\n${s.logs()}\n`);
      throw e;
    }
  });

  it('sends an SMS campaign through the workspace’s Twilio account', async () => {
    const SID = `AC${'7e'.repeat(16)}`;
    const twilio = new LocalServer((req) => {
      assert(req.path === `/2010-04-01/Accounts/${SID}/Messages.json`, `unexpected ${req.path}`);
      assert(
        req.headers.authorization === `Basic ${Buffer.from(`${SID}:e2e-token`).toString('base64')}`,
        'bad Basic auth',
      );
      return {
        status: 201,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sid: `SM${'0a'.repeat(16)}`, status: 'queued' }),
      };
    });
    await twilio.start();
    try {
      const provider = await fetch(`${services.delivery.url}/v1/providers/sms`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${keys.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: 'twilio',
          settings: { accountSid: SID, from: '+15005550006', baseUrl: twilio.url },
          secrets: { authToken: 'e2e-token' },
        }),
      });
      expect(provider.status).toBe(200);
      const segment = await json(
        await manage(services.analysis, '/v1/segments', {
          name: 'Card blocked',
          definition: { type: 'event', name: 'Card Blocked' },
        }),
      );
      const campaign = await manage(services.campaign, '/v1/campaigns', {
        name: 'Card blocked notice',
        channel: 'sms',
        status: 'active',
        consent: 'transactional',
        trigger: { type: 'segment_entered', segmentId: segment.id },
        template: { body: '{{ traits.firstName }}, your card ending {{ traits.cardLast4 }} is blocked.' },
      });
      expect(campaign.status).toBe(201);

      expect(
        (
          await tracking('/v1/identify', {
            userId: 'u-3001',
            traits: { phone: '+41 79 555 01 23', firstName: 'Min', cardLast4: '4242' },
          })
        ).status,
      ).toBe(200);
      expect((await tracking('/v1/track', { userId: 'u-3001', event: 'Card Blocked' })).status).toBe(200);

      const sms = await waitFor('the SMS at the Twilio endpoint', async () => twilio.requests[0]);
      expect(twilio.failures).toEqual([]);
      expect(Object.fromEntries(new URLSearchParams(sms.body.toString('utf8')))).toMatchObject({
        To: '+41795550123',
        From: '+15005550006',
        Body: 'Min, your card ending 4242 is blocked.',
      });
      const sent = await waitFor('the message recorded as sent', async () => {
        const page = await json(await manage(services.delivery, '/v1/messages?channel=sms'));
        return page.items?.find((m: any) => m.status === 'sent');
      });
      expect(sent).toMatchObject({ channel: 'sms', provider: 'twilio' });
    } catch (e) {
      for (const s of Object.values(services)) process.stderr.write(`--- ${s.name} ---\n${s.logs()}\n`);
      throw e;
    } finally {
      await twilio.close();
    }
  });

  it('pushes to the app of gold customers who applied for a loan, through the workspace’s FCM project', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const tokenEndpoint = new LocalServer((req) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      assert(form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'wrong grant_type');
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ access_token: 'ya29.e2e', expires_in: 3599, token_type: 'Bearer' }),
      };
    });
    const fcm = new LocalServer((req) => {
      assert(req.path === '/v1/projects/acme-app/messages:send', `unexpected ${req.path}`);
      assert(req.headers.authorization === 'Bearer ya29.e2e', 'no access token');
      if (JSON.parse(req.body.toString('utf8')).message?.token === 'fcm-e2e-old-phone-0123456789')
        return {
          status: 404,
          body: JSON.stringify({ error: { status: 'NOT_FOUND', details: [{ errorCode: 'UNREGISTERED' }] } }),
        };
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'projects/acme-app/messages/0:1' }),
      };
    });
    await tokenEndpoint.start();
    await fcm.start();
    try {
      const provider = await fetch(`${services.delivery.url}/v1/providers/push`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${keys.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          provider: 'fcm',
          settings: {
            projectId: 'acme-app',
            clientEmail: 'cdp@acme-app.iam.gserviceaccount.com',
            tokenUrl: `${tokenEndpoint.url}/token`,
            baseUrl: fcm.url,
          },
          secrets: { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
        }),
      });
      expect(provider.status).toBe(200);
      // A combined segment: a trait (from cdp.profile.updated) and an event, whichever comes last.
      const segment = await json(
        await manage(services.analysis, '/v1/segments', {
          name: 'Gold loan applicants',
          definition: {
            type: 'all',
            conditions: [
              { type: 'trait', trait: 'plan', op: 'eq', value: 'gold' },
              { type: 'event', name: 'Loan Applied' },
            ],
          },
        }),
      );
      expect(segment.id).toEqual(expect.any(String));
      const campaign = await manage(services.campaign, '/v1/campaigns', {
        name: 'Gold loan rate',
        channel: 'push',
        pushTo: 'app',
        status: 'active',
        trigger: { type: 'segment_entered', segmentId: segment.id },
        template: { subject: 'Your rate', body: '{{ traits.firstName }}, gold members get 0.5% off.' },
      });
      expect(campaign.status).toBe(201);

      expect(
        (await tracking('/v1/identify', { userId: 'u-4001', traits: { firstName: 'Hoon' } })).status,
      ).toBe(200);
      const hoon = await waitFor('Hoon', async () => {
        const res = await manage(
          services.collection,
          '/v1/customers?identifierType=user_id&identifierValue=u-4001',
        );
        return res.status === 200 ? json(res) : undefined;
      });
      // Two app installations: the old phone's token is no longer registered at FCM.
      for (const token of ['fcm-e2e-old-phone-0123456789', 'fcm-e2e-hoon-0123456789']) {
        const device = { platform: 'android', provider: 'fcm', token };
        expect(
          (await manage(services.collection, `/v1/customers/${hoon.id}/device-tokens`, device)).status,
        ).toBe(201);
      }
      expect((await tracking('/v1/track', { userId: 'u-4001', event: 'Loan Applied' })).status).toBe(200);
      // Not gold yet: no push. Then the trait arrives, and the rule holds.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(fcm.requests).toEqual([]);
      expect((await tracking('/v1/identify', { userId: 'u-4001', traits: { plan: 'gold' } })).status).toBe(
        200,
      );

      const push = await waitFor('the push at the FCM endpoint', async () =>
        fcm.requests.find((r) => r.body.toString('utf8').includes('fcm-e2e-hoon')),
      );
      expect(fcm.failures).toEqual([]);
      expect(JSON.parse(push.body.toString('utf8')).message).toMatchObject({
        token: 'fcm-e2e-hoon-0123456789',
        notification: { title: 'Your rate', body: 'Hoon, gold members get 0.5% off.' },
      });
      const sent = await waitFor('the push recorded as sent', async () => {
        const page = await json(await manage(services.delivery, '/v1/messages?channel=push'));
        return page.items?.find((m: any) => m.status === 'sent');
      });
      expect(sent).toMatchObject({ channel: 'push', provider: 'fcm', customerId: hoon.id });
      // The unregistered token failed for good, and collection revoked it: no campaign sends to it again.
      await waitFor('the gone token revoked', async () => {
        const devices = await json(await manage(services.collection, `/v1/customers/${hoon.id}/devices`));
        return (
          devices.deviceTokens.length === 1 && devices.deviceTokens[0].token === 'fcm-e2e-hoon-0123456789'
        );
      });
    } catch (e) {
      for (const s of Object.values(services)) process.stderr.write(`--- ${s.name} ---\n${s.logs()}\n`);
      throw e;
    } finally {
      await tokenEndpoint.close();
      await fcm.close();
    }
  });

  it('rejects bad input with field paths, and unknown keys with 401', async () => {
    const bad = await tracking('/v1/track', { userId: 'u-1', properties: 'nope' });
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.issues.map((i: any) => i.path)).toEqual(expect.arrayContaining(['/event', '/properties']));
    const unauthorized = await fetch(`${services.collection.url}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('wk_nope:').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ userId: 'u', event: 'x' }),
    });
    expect(unauthorized.status).toBe(401);
    const malformed = await fetch(`${services.collection.url}/v1/track`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${keys.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: '{"userId": "u-1", "event": ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('JSON'),
    });
    expect(
      (await manage(services.analysis, '/v1/segments', { name: 'x', definition: { type: 'event' } })).status,
    ).toBe(400);
  });

  it('exposes health and Prometheus metrics on every service', async () => {
    for (const service of Object.values(services)) {
      expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain(`service="${service.name}"`);
      expect(metrics).toContain('process_cpu_seconds_total');
    }
  });
});
