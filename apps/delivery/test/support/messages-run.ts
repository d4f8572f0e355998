import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { register } from 'prom-client';
import { streamName, subjectFor, Subjects } from '@cdp/contracts';
import { createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { createService, loadConfig } from '@cdp/service-kit';
import { TEST_SECRETS, cleanUpRun, NATS_URL, testPrefix, freePort, SmtpSink } from '@cdp/testing';
import { AppModule } from '../../src/app.module';
import { DeliveryConfigSchema } from '../../src/config';
import { bullPrefix, DELIVERY_QUEUES } from '../../src/queues/delivery-queues';
import { createTenant, openDatabase, type Tenant } from '../fixtures';

/**
 * What the message pipeline tests share: their own database with one tenant, an SMTP sink on a free
 * port, a publisher standing in for the campaign service, and a clean-up that leaves no BullMQ
 * queue, Redis key, NATS stream or database behind.
 */
export class MessagesRun {
  readonly prefix: string;
  private database?: TestDatabase;
  private db?: PrismaClient;
  private publisher?: JetStreamPublisher;

  /** `label` names the NATS prefix and the database (`cdp_test_<label>_<prefix>`). */
  constructor(
    private readonly label: string,
    readonly sink: SmtpSink = new SmtpSink(),
  ) {
    this.prefix = testPrefix(label);
  }

  /** Creates the database with a tenant of `customers` customers and starts the SMTP sink. */
  async open(customers: number): Promise<{ db: PrismaClient; tenant: Tenant; smtpPort: number }> {
    this.database = await createTestDatabase(`cdp_test_${this.label}_${this.prefix}`);
    const db = openDatabase(this.database.url);
    this.db = db;
    const tenant = await createTenant(db, customers);
    const smtpPort = await freePort();
    await this.sink.listen(smtpPort);
    return { db, tenant, smtpPort };
  }

  /** The database URL of an opened run. */
  get databaseUrl(): string {
    if (!this.database) throw new Error('MessagesRun.open() has not run');
    return this.database.url;
  }

  /** Delivery in this process (HTTP and consumers) on the run's database and prefix; `env` adds to it. */
  async startApp(env: Record<string, string>): Promise<NestFastifyApplication> {
    const config = loadConfig(DeliveryConfigSchema, {
      ...TEST_SECRETS,
      PORT: '1',
      DATABASE_URL: this.databaseUrl,
      NATS_URL,
      NATS_PREFIX: this.prefix,
      LOG_LEVEL: 'fatal',
      ...env,
    });
    const app = await createService(
      { service: 'delivery', configSchema: DeliveryConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.startAllMicroservices();
    return app;
  }

  /** Apps of `startTrackedApp` still running, stopped by `stopApps` if a failed expectation left them. */
  private readonly apps = new Set<NestFastifyApplication>();

  /** `startApp`, and the app is stopped by `stopApps` unless `stopApp` stopped it first. */
  async startTrackedApp(env: Record<string, string>): Promise<NestFastifyApplication> {
    const app = await this.startApp(env);
    this.apps.add(app);
    return app;
  }

  async stopApp(app: NestFastifyApplication): Promise<void> {
    this.apps.delete(app);
    await app.close();
    // The default metrics live in prom-client's global registry; a second app registers them again.
    register.clear();
  }

  async stopApps(): Promise<void> {
    for (const app of [...this.apps]) await this.stopApp(app);
  }

  /** Every cdp.delivery.status event published for the workspace on the run's prefix, as messageId -> status. */
  async statusEvents(nc: NatsConnection, workspaceId: string): Promise<Map<string, string>> {
    const consumer = await jetstream(nc).consumers.get(streamName(this.prefix, 'DELIVERY'), {
      filter_subjects: subjectFor(this.prefix, Subjects.deliveryStatus.name, workspaceId),
    });
    const events = new Map<string, string>();
    const messages = await consumer.fetch({ max_messages: 100, expires: 1000 });
    for await (const m of messages) {
      const event = m.json<{ messageId: string; status: string }>();
      events.set(event.messageId, event.status);
      if (m.info.pending === 0) break;
    }
    return events;
  }

  /** Publishes as the campaign service would, on the run's prefix. */
  async connectPublisher(): Promise<JetStreamPublisher> {
    this.publisher = new JetStreamPublisher({
      servers: [NATS_URL],
      prefix: this.prefix,
      service: 'campaign',
    });
    await this.publisher.connect();
    return this.publisher;
  }

  /**
   * Stops delivery first (`stopDelivery`: the app or processes, and the test's own connections), then
   * removes what the run made; `afterQueues` stops what must outlive the queue clean-up (proxies).
   */
  async close(stopDelivery: () => Promise<void>, afterQueues?: () => Promise<void>): Promise<void> {
    await timed('stop delivery', stopDelivery);
    await timed('publisher close', async () => this.publisher?.close());
    await timed('remove queues', () => removeDeliveryQueues(this.prefix));
    await timed('after queues', async () => afterQueues?.());
    await timed('SMTP sink close', () => this.sink.close());
    await timed('NATS clean-up', () => cleanUpRun(this.prefix));
    await timed('database drop', async () => {
      await this.db?.$disconnect();
      await this.database?.drop();
    });
  }
}

/**
 * Runs one clean-up step and names it on stderr when it takes more than 3 s, while it still runs
 * (every 10 s, with the kinds of resources the process holds open) and once it ends: a suite's
 * afterAll outlasted its timeout under load in CI, and the report must say which step waited.
 */
async function timed(step: string, run: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  const report = () =>
    process.stderr.write(
      `messages-run clean-up: still waiting for "${step}" after ${Date.now() - started} ms; open: ${process
        .getActiveResourcesInfo()
        .join(', ')}\n`,
    );
  let every: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    report();
    every = setInterval(report, 10_000);
  }, 3000);
  try {
    await run();
  } finally {
    clearTimeout(first);
    clearInterval(every);
    const ms = Date.now() - started;
    if (ms > 3000) process.stderr.write(`messages-run clean-up: "${step}" took ${ms} ms\n`);
  }
}

/** Obliterates every delivery queue under `prefix` and deletes any Redis key left with its prefix. */
export async function removeDeliveryQueues(prefix: string): Promise<void> {
  const redis = new Redis();
  for (const name of Object.values(DELIVERY_QUEUES)) {
    const queue = new Queue(name, { connection: redis, prefix: bullPrefix(prefix) });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  const leftovers = await redis.keys(`${bullPrefix(prefix)}:*`);
  if (leftovers.length) await redis.del(...leftovers);
  await redis.quit();
}
