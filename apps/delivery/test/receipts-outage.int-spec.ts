import { cleanUpRun, freePort } from '@cdp/testing';
// A receipt arriving while NATS is unreachable (cut through a TCP proxy, the shared server keeps
// running): 503 + Retry-After and no ledger change, so the provider's retry records it and the
// event is published then; a bounce delivered over SMTP meanwhile gets 451, so the MTA retries it.
// Own database and subject prefix.
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { streamName } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { createService, loadConfig } from '@cdp/service-kit';
import { AppModule } from '../src/app.module';
import { DeliveryConfigSchema } from '../src/config';
import { bounceFor, deliverOverSmtp } from './support/bounces';
import { TcpProxy } from '@cdp/testing';

const NATS = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');

describe('delivery receipts while NATS is down', () => {
  const prefix = `t_rcpt_out_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const proxy = new TcpProxy(NATS.hostname, Number(NATS.port || 4222));
  let database: TestDatabase;
  let db: PrismaClient;
  let app: NestFastifyApplication;
  let nc: NatsConnection;
  let dsnSmtpPort: number;

  beforeAll(async () => {
    dsnSmtpPort = await freePort();
    database = await createTestDatabase(`cdp_test_${prefix}`);
    db = createPrismaClient(database.url, { max: 2 });
    const port = await proxy.start();
    const config = loadConfig(DeliveryConfigSchema, {
      DATABASE_URL: database.url,
      DELIVERY_SECRET_KEYS: `test:${randomBytes(32).toString('base64')}`,
      NATS_URL: `nats://127.0.0.1:${port}`,
      NATS_PREFIX: prefix,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      DSN_SMTP_PORT: String(dsnSmtpPort),
      DSN_SMTP_HOST: '127.0.0.1',
    });
    app = await createService(
      { service: 'delivery', configSchema: DeliveryConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    nc = await connect({ servers: NATS.toString() });
  });

  afterAll(async () => {
    proxy.restore();
    await app?.close();
    await proxy.stop();
    if (nc) {
      await nc.close();
    }
    await db?.$disconnect();
    await database?.drop();
    await cleanUpRun(prefix);
  });

  /** A message the provider took (`sent`), for a customer of the test's one workspace. */
  let customer: { workspaceId: string; id: string } | undefined;
  async function sentMessage(provider: string, providerMessageId: string) {
    if (!customer) {
      const workspaceId = (await db.workspace.create({ data: { slug: prefix, name: 'Outage bank' } })).id;
      customer = await db.customer.create({ data: { workspaceId, customerCode: 'C0000000000000003' } });
    }
    return db.message.create({
      data: {
        idempotencyKey: randomUUID(),
        workspaceId: customer.workspaceId,
        customerId: customer.id,
        channel: 'email',
        recipient: 'ada@example.com',
        status: 'sent',
        provider,
        providerMessageId,
        providerIds: { create: { provider, providerMessageId, workspaceId: customer.workspaceId } },
        sentAt: new Date(),
      },
    });
  }

  it('answers 503 and keeps the ledger as it was; the retry records and publishes it', async () => {
    const message = await sentMessage('sendgrid', 'x');
    const body = JSON.stringify([
      { event: 'delivered', timestamp: Math.floor(Date.now() / 1000), cdp_message_id: message.id },
    ]);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/v1/receipts/sendgrid',
        payload: body,
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-timestamp': timestamp,
          'x-twilio-email-event-webhook-signature': sign(
            'sha256',
            Buffer.from(timestamp + body),
            keys.privateKey,
          ).toString('base64'),
        },
      });

    const publisher = app.get(JetStreamPublisher);
    proxy.cut();
    for (let i = 0; i < 100 && publisher.isConnected(); i++) await sleep(20);
    const refused = await post();
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(await db.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({
      status: 'sent',
      deliveredAt: null,
    });

    proxy.restore();
    for (let i = 0; i < 500 && !publisher.isConnected(); i++) await sleep(20);
    const accepted = await post();
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toEqual({ applied: 1, unmatched: 0, ignored: 0 });
    expect(await db.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({
      status: 'delivered',
    });
    const stored = await jetstream(nc)
      .consumers.get(streamName(prefix, 'DELIVERY'))
      .then((c) => c.next({ expires: 5000 }));
    expect(stored?.json()).toMatchObject({ messageId: message.id, status: 'delivered' });
    expect(stored?.headers?.get('Nats-Msg-Id')).toBe(`status:${message.id}:delivered`);
  });

  it('answers a bounce delivered over SMTP with 451 while NATS is down, and records the retry', async () => {
    const message = await sentMessage('smtp', '<outage@cdp.local>');
    const deliver = () => deliverOverSmtp(dsnSmtpPort, bounceFor(message.id));

    const publisher = app.get(JetStreamPublisher);
    proxy.cut();
    for (let i = 0; i < 100 && publisher.isConnected(); i++) await sleep(20);
    await expect(deliver()).rejects.toMatchObject({ responseCode: 451 });
    expect(await db.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({
      status: 'sent',
    });

    proxy.restore();
    for (let i = 0; i < 500 && !publisher.isConnected(); i++) await sleep(20);
    expect((await deliver()).response).toMatch(/^250 /);
    expect(await db.message.findUniqueOrThrow({ where: { id: message.id } })).toMatchObject({
      status: 'bounced',
    });
  });
});
