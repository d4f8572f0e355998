/**
 * The delivery pipeline in one process on the real Postgres, Redis and NATS, with a real SMTP sink
 * behind a cut-able TCP proxy: request -> ledger -> BullMQ job -> SMTP -> status.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { deadLetterSubject, streamName, Subjects, subjectFor, type PayloadOf } from '@cdp/contracts';
import type { PrismaClient } from '@cdp/db';
import { CdpHeaders, type JetStreamPublisher } from '@cdp/messaging';
import { withTimeout } from '@cdp/service-kit';
import { NATS_URL, waitFor, SmtpSink, TcpProxy } from '@cdp/testing';
import { bullPrefix, DELIVERY_QUEUES } from '../src/queues/delivery-queues';
import type { Tenant } from './fixtures';
import { MessagesRun } from './support/messages-run';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

/**
 * Names on stderr every shutdown hook of the app's providers that is still running after 3 s, so
 * a close that hangs shows whose hook it waits for (reads Nest's module container).
 */
function reportSlowShutdownHooks(app: NestFastifyApplication): void {
  type Hooked = Record<string, (...args: unknown[]) => unknown>;
  const container = (
    app as unknown as {
      container: {
        getModules(): Map<string, { providers: Map<unknown, { instance: unknown; name: unknown }> }>;
      };
    }
  ).container;
  for (const module of container.getModules().values())
    for (const wrapper of module.providers.values()) {
      const instance = wrapper.instance as Hooked | undefined;
      if (!instance || typeof instance !== 'object') continue;
      for (const hook of ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown']) {
        const original = instance[hook];
        if (typeof original !== 'function') continue;
        instance[hook] = async (...args: unknown[]) => {
          const timer = setTimeout(
            () =>
              process.stderr.write(
                `messages-queue: ${String(wrapper.name)}.${hook} still running after 3 s\n`,
              ),
            3000,
          );
          try {
            return await original.apply(instance, args);
          } finally {
            clearTimeout(timer);
          }
        };
      }
    }
}

describe('delivery queue: ledger, jobs, retries, dead letters, templates', () => {
  const sink = new SmtpSink((recipient) => {
    if (recipient.startsWith('bounce-')) return { code: 550, message: 'No such user here' };
    if (recipient.startsWith('busy-')) return { code: 451, message: 'Mailbox busy, try again later' };
    return undefined;
  });
  const run = new MessagesRun('dq', sink);
  const { prefix } = run;
  let proxy: TcpProxy;
  const redisProxy = new TcpProxy('127.0.0.1', 6379);
  let db: PrismaClient;
  let app: NestFastifyApplication;
  let publisher: JetStreamPublisher;
  let nc: NatsConnection;
  let tenant: Tenant;
  let nextCustomer = 0;

  beforeAll(async () => {
    const opened = await run.open(40);
    ({ db, tenant } = opened);
    proxy = new TcpProxy('127.0.0.1', opened.smtpPort);
    await proxy.start();
    await redisProxy.start();
    app = await run.startApp({
      REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      SMTP_PORT: String(proxy.port),
      SMTP_POOL_SIZE: '1',
      DELIVERY_MAX_ATTEMPTS: '2',
      DELIVERY_BACKOFF_MS: '50',
      DELIVERY_RATE_LIMIT_PER_SECOND: '5',
    });
    publisher = await run.connectPublisher();
    nc = await connect({ servers: NATS_URL });
  });

  // Twice the tier's hook timeout: under CI load this clean-up once took over 60 s with every test
  // passed; MessagesRun.close names any step that takes more than 3 s, so a slow one shows which.
  afterAll(
    () =>
      run.close(
        async () => {
          // app.close() has been seen never to finish here (cause not found yet; see the delivery
          // README, "Tests"): the clean-up goes on after 20 s and says so on stderr.
          if (app) reportSlowShutdownHooks(app);
          await withTimeout(Promise.resolve(app?.close()), 20_000, 'delivery app.close()').catch((e: Error) =>
            process.stderr.write(`messages-queue: ${e.message}; going on\n`),
          );
          await nc?.close();
        },
        async () => {
          await proxy?.stop();
          await redisProxy.stop();
        },
      ),
    120_000,
  );

  const request = (overrides: Partial<Requested> = {}): Requested => {
    const customerId = tenant.customerIds[nextCustomer++]!;
    return {
      workspaceId: tenant.workspaceId,
      idempotencyKey: `run-1:${customerId}:email:welcome`,
      customerId,
      channel: 'email',
      recipient: `${customerId}@example.com`,
      template: { subject: 'Hello {{ firstName }}', body: 'Hi {{ firstName }}, welcome.' },
      variables: { firstName: 'Ada' },
      requestedAt: new Date().toISOString(),
      ...overrides,
    };
  };
  const publish = (r: Requested) =>
    publisher.publish(Subjects.deliveryRequested, r, { msgId: `req:${r.idempotencyKey}:${randomUUID()}` });
  const ledger = (r: Requested) => db.message.findUnique({ where: { idempotencyKey: r.idempotencyKey } });
  const final = (r: Requested, status: string) =>
    waitFor(`${r.recipient} ${status}`, async () => {
      const row = await ledger(r);
      return row?.status === status ? row : undefined;
    });
  const mailsTo = (recipient: string) => sink.received.filter((m) => m.to.includes(recipient));
  const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      ...(payload !== undefined && { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.json() };
  };

  it('sends each requested message once however often the request arrives, and counts it', async () => {
    const requests = [request(), request(), request()];
    const seqs: number[] = [];
    for (const r of requests) seqs.push((await publish(r)).seq);
    // A redelivered request: same idempotency key, new NATS message (either holds the request).
    const again = (await publish(requests[0]!)).seq;
    for (const [i, r] of requests.entries()) {
      const row = await final(r, 'sent');
      expect(row.attempts).toBe(1);
      expect(row.provider).toBe('smtp');
      // The request's place on the stream, to rebuild a send job Redis might lose.
      expect(i === 0 ? [seqs[0], again] : [seqs[i]]).toContain(Number(row.requestSeq));
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const r of requests) expect(mailsTo(r.recipient)).toHaveLength(1);
    expect(mailsTo(requests[0]!.recipient)[0]!.raw).toContain('Hi Ada, welcome.');
    const stats = await api('GET', '/v1/messages/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.sent).toBeGreaterThanOrEqual(3);
    expect(stats.body.total).toBe(
      Object.entries(stats.body as Record<string, number>)
        .filter(([k]) => k !== 'total')
        .reduce((s, [, n]) => s + n, 0),
    );
  });

  it('counts the messages requested in a time range, of a channel, and answers a bad range with a 400', async () => {
    const at = (day: number) => `2020-01-0${day}T12:00:00.000Z`;
    const requests = [
      request({ requestedAt: at(1) }),
      request({ requestedAt: at(1) }),
      request({ requestedAt: at(2) }),
    ];
    for (const r of requests) await publish(r);
    for (const r of requests) await final(r, 'sent');
    const stats = async (query: string) => (await api('GET', `/v1/messages/stats?${query}`)).body;
    expect(await stats('since=2020-01-01&until=2020-01-02')).toMatchObject({ sent: 2, total: 2 });
    expect(await stats('since=2020-01-01&until=2020-01-03&channel=email')).toMatchObject({
      sent: 3,
      total: 3,
    });
    expect(await stats('since=2020-01-01&until=2020-01-03&channel=sms')).toMatchObject({ total: 0 });
    expect(await stats('since=2020-01-02T00:00:00Z&until=2020-01-03')).toMatchObject({ sent: 1, total: 1 });
    const bad = await api('GET', '/v1/messages/stats?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ path: '/since', reason: 'an ISO 8601 date-time' }]);
    const backwards = await api('GET', '/v1/messages/stats?since=2020-01-02&until=2020-01-01');
    expect(backwards.status).toBe(400);
    expect(backwards.body.issues).toEqual([{ path: '/until', reason: 'after since' }]);
  });

  it('fails an invalid email address or phone at once with the reason, and enqueues nothing', async () => {
    const email = request({ recipient: 'not-an-address' });
    const sms = request({ channel: 'sms', recipient: '0791234567' });
    await publish(email);
    await publish(sms);
    const badEmail = await final(email, 'failed');
    const badPhone = await final(sms, 'failed');
    expect(badEmail.error).toMatch(/invalid email address "not-an-address"/);
    expect(badPhone.error).toMatch(/invalid phone number "0791234567" \(E.164/);
    expect(badEmail.attempts).toBe(0);
    const queue = new Queue(DELIVERY_QUEUES.email, {
      connection: new Redis({ lazyConnect: true }),
      prefix: bullPrefix(prefix),
    });
    expect(await queue.getJob(badEmail.id)).toBeUndefined();
    await queue.close();
    await (queue.opts.connection as Redis).quit();
  });

  it('shows the ledger: one message, and the messages of a customer or a status, newest first, in pages', async () => {
    const older = request();
    const customerId = older.customerId;
    const newer = request({
      customerId,
      idempotencyKey: `run-2:${customerId}:sms:reminder`,
      channel: 'sms',
      recipient: 'not-a-phone',
      requestedAt: new Date(Date.now() + 1000).toISOString(),
    });
    await publish(older);
    await publish(newer);
    const sent = await final(older, 'sent');
    const failed = await final(newer, 'failed');

    const one = await api('GET', `/v1/messages/${sent.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: sent.id,
      customerId,
      channel: 'email',
      status: 'sent',
      attempts: 1,
    });
    expect(one.body.sentAt).not.toBeNull();
    expect((await api('GET', '/v1/messages/no-such-message')).status).toBe(404);

    const first = await api('GET', `/v1/messages?customerId=${customerId}&limit=1`);
    expect(first.body.items.map((m: { id: string }) => m.id)).toEqual([failed.id]);
    const second = await api(
      'GET',
      `/v1/messages?customerId=${customerId}&limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((m: { id: string }) => m.id)).toEqual([sent.id]);
    expect(second.body.nextCursor).toBeNull();

    const failedSms = await api('GET', '/v1/messages?status=failed&channel=sms&limit=500');
    expect(failedSms.body.items.map((m: { id: string }) => m.id)).toContain(failed.id);
    expect(
      failedSms.body.items.every(
        (m: { status: string; channel: string }) => m.status === 'failed' && m.channel === 'sms',
      ),
    ).toBe(true);

    const bad = await api('GET', '/v1/messages?status=lost');
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('/status');
    expect((await api('GET', '/v1/messages?cursor=nonsense')).status).toBe(400);
  });

  it('fails a template that references a missing variable, not sends a blank', async () => {
    const r = request({ template: { body: 'Hi {{ lastName }}' } });
    await publish(r);
    expect((await final(r, 'failed')).error).toMatch(/template: .*lastName/);
    expect(mailsTo(r.recipient)).toHaveLength(0);
  });

  it('retries while the SMTP server is unreachable, dead-letters after the last attempt, and a replay sends once', async () => {
    proxy.cut();
    const first = request();
    const second = request();
    await publish(first);
    const failedFirst = await final(first, 'failed');
    await publish(second);
    await final(second, 'failed');
    proxy.restore();
    expect(failedFirst.attempts).toBe(2);

    const page1 = await api('GET', '/v1/dead-letters?limit=1');
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(1);
    expect(page1.body.items[0].queue).toBe('delivery-email');
    expect(page1.body.items[0].attempts).toBe(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await api('GET', `/v1/dead-letters?limit=1&cursor=${page1.body.nextCursor}`);
    const ids = [page1.body.items[0].messageId, page2.body.items[0].messageId];
    expect(ids).toEqual([(await ledger(second))!.id, failedFirst.id]);
    expect((await api('GET', '/v1/dead-letters?cursor=garbage')).status).toBe(400);
    expect((await api('GET', '/v1/dead-letters?limit=0')).body.issues[0].path).toBe('/limit');

    const deadLetterId = page2.body.items[0].id as string;
    const replay = await api('POST', `/v1/dead-letters/${deadLetterId}/replay`);
    expect(replay.status).toBe(202);
    const sent = await final(first, 'sent');
    expect(sent.attempts).toBe(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(first.recipient)).toHaveLength(1);
    // The ledger says sent: a second replay is refused, never a second email.
    expect((await api('POST', `/v1/dead-letters/${deadLetterId}/replay`)).status).toBe(409);
    expect((await api('POST', `/v1/dead-letters/${randomUUID()}/replay`)).status).toBe(404);
  });

  it('fails a recipient the server refuses (550) at once, and retries a 451 until the last attempt', async () => {
    const bounce = request();
    bounce.recipient = `bounce-${bounce.recipient}`;
    const busy = request();
    busy.recipient = `busy-${busy.recipient}`;
    await publish(bounce);
    await publish(busy);
    const bounced = await final(bounce, 'failed');
    expect(bounced.attempts).toBe(1);
    expect(bounced.error).toMatch(/550/);
    const refused = await final(busy, 'failed');
    expect(refused.attempts).toBe(2);
    expect(refused.error).toMatch(/451/);
    const letters = await db.deadLetter.findMany({ where: { messageId: { in: [bounced.id, refused.id] } } });
    expect(letters.map((l) => [l.messageId, l.attempts]).sort()).toEqual(
      [
        [bounced.id, 1],
        [refused.id, 2],
      ].sort(),
    );
  });

  it("holds sends over the provider account's rate back without using up attempts", async () => {
    const burst = Array.from({ length: 12 }, () => request());
    await Promise.all(burst.map(publish));
    const rows = await Promise.all(burst.map((r) => final(r, 'sent')));
    expect(rows.map((r) => r.attempts)).toEqual(burst.map(() => 1));
    const times = rows.map((r) => r.sentAt!.getTime()).sort((a, b) => a - b);
    // 12 sends at 5 per second need at least three one-second windows.
    expect(times[times.length - 1]! - times[0]!).toBeGreaterThanOrEqual(1000);
  });

  it('dead-letters a malformed request on the subject with its reason (transport)', async () => {
    const js = jetstream(nc);
    const valid = request();
    const malformed: Record<string, unknown> = { ...valid };
    delete malformed.recipient;
    await js.publish(
      subjectFor(prefix, Subjects.deliveryRequested.name, tenant.workspaceId),
      JSON.stringify(malformed),
    );
    const jsm = await jetstreamManager(nc);
    const letter = await waitFor('dead letter', () =>
      jsm.streams
        .getMessage(streamName(prefix, 'DLQ'), {
          last_by_subj: deadLetterSubject(
            prefix,
            'delivery',
            Subjects.deliveryRequested.name,
            tenant.workspaceId,
          ),
        })
        .catch(() => null),
    );
    expect(letter.header.get(CdpHeaders.DlqReason)).toMatch(/recipient/);
    expect(await ledger(valid)).toBeNull();
  });

  describe('templates', () => {
    const base = {
      name: 'welcome',
      channel: 'email',
      subject: 'Welcome {{ customer.firstName }}',
      body: 'Hello {{ customer.firstName }}, your plan: {{ plan.name }}',
      sample: { customer: { firstName: 'Ada' }, plan: { name: 'Gold' } },
    };

    it('refuses a syntax error and an undeclared variable at save time with the path and reason', async () => {
      const broken = await api('POST', '/v1/templates', {
        ...base,
        locale: 'en',
        body: 'Hi {{ customer.firstName',
      });
      expect(broken.status).toBe(400);
      expect(broken.body.issues).toEqual([{ path: '/body', reason: expect.stringMatching(/Liquid: /) }]);
      const undeclared = await api('POST', '/v1/templates', {
        ...base,
        locale: 'en',
        html: '<p>{{ customer.lastName }}</p>',
      });
      expect(undeclared.status).toBe(400);
      expect(undeclared.body.issues).toEqual([
        { path: '/html', reason: 'variable "customer.lastName" is not declared in the sample' },
      ]);
      const badFilter = await api('POST', '/v1/templates', {
        ...base,
        locale: 'en',
        body: '{{ plan.name | shout }}',
      });
      expect(badFilter.body.issues[0].path).toBe('/body');
      const badLocale = await api('POST', '/v1/templates', { ...base, locale: 'english!' });
      expect(badLocale.body.issues[0].path).toBe('/locale');
    });

    it('stores, versions, previews and sends the locale variant, falling back to the language', async () => {
      const en = await api('POST', '/v1/templates', { ...base, locale: 'en' });
      expect(en.status).toBe(201);
      expect(en.body.version).toBe(1);
      const de = await api('POST', '/v1/templates', {
        ...base,
        locale: 'de',
        subject: 'Willkommen {{ customer.firstName }}',
        body: 'Hallo {{ customer.firstName }}, Ihr Paket: {{ plan.name }}',
      });
      expect(de.status).toBe(201);
      expect((await api('POST', '/v1/templates', { ...base, locale: 'en' })).status).toBe(400);

      const changed = await api('PUT', `/v1/templates/${en.body.id}`, {
        ...base,
        locale: 'en',
        body: 'Hello {{ customer.firstName }}! Plan: {{ plan.name }}',
      });
      expect(changed.body.version).toBe(2);
      const collision = await api('PUT', `/v1/templates/${en.body.id}`, { ...base, locale: 'de' });
      expect(collision.status).toBe(400);
      expect(collision.body.issues[0].path).toBe('/locale');
      expect((await api('GET', `/v1/templates/${en.body.id}`)).body.body).toContain(
        'Hello {{ customer.firstName }}!',
      );

      const preview = await api('POST', `/v1/templates/${en.body.id}/preview`, {
        variables: { customer: { firstName: 'Grace' }, plan: { name: 'Silver' } },
      });
      expect(preview.status).toBe(200);
      expect(preview.body).toEqual({ subject: 'Welcome Grace', text: 'Hello Grace! Plan: Silver' });
      const missing = await api('POST', `/v1/templates/${en.body.id}/preview`, {
        variables: { customer: {} },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.issues[0].path).toBe('/variables');

      const swiss = request({
        template: undefined,
        templateId: en.body.id,
        locale: 'de-CH',
        variables: { customer: { firstName: 'Heidi' }, plan: { name: 'Gold' } },
      });
      const french = request({
        template: undefined,
        templateId: de.body.id,
        locale: 'fr',
        variables: { customer: { firstName: 'Amélie' }, plan: { name: 'Or' } },
      });
      await publish(swiss);
      await publish(french);
      await final(swiss, 'sent');
      await final(french, 'sent');
      expect(mailsTo(swiss.recipient)[0]!.raw).toContain('Hallo Heidi, Ihr Paket: Gold');
      // No fr variant: the fallback locale (en).
      expect(mailsTo(french.recipient)[0]!.raw).toContain('Plan: Or');
    });
  });

  it('keeps a request while Redis is down and sends it once Redis is back; a replay then gets 503', async () => {
    const [letter] = await db.deadLetter.findMany({
      where: { workspaceId: tenant.workspaceId, message: { status: 'failed' } },
      take: 1,
    });
    redisProxy.cut();
    const r = request();
    await publish(r);
    await waitFor('the claimed ledger row', async () => (await ledger(r))?.status === 'queued');
    const replay = await api('POST', `/v1/dead-letters/${letter!.id}/replay`);
    expect(replay.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(mailsTo(r.recipient)).toHaveLength(0);
    redisProxy.restore();
    // The request was nak'ed, not acked: its redelivery enqueues the job.
    const sent = await waitFor(
      `${r.recipient} sent after Redis came back`,
      async () => ((await ledger(r))?.status === 'sent' ? true : undefined),
      30_000,
    );
    expect(sent).toBe(true);
    expect(mailsTo(r.recipient)).toHaveLength(1);
    // The client retries the replay: the message (reset to queued) goes out again through its job.
    expect((await api('POST', `/v1/dead-letters/${letter!.id}/replay`)).status).toBe(202);
  });
});
