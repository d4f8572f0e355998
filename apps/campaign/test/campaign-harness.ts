import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Subjects, subjectFilter, type PayloadOf, type ReplyOf, type RpcSubjects } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { hashKey, startServiceInProcess } from '@cdp/service-kit';
import { cleanUpRun, NATS_URL, testPrefix } from '@cdp/testing';
import { AppModule } from '../src/app.module';
import { CampaignConfigSchema } from '../src/config';

type LookedUp = NonNullable<ReplyOf<typeof RpcSubjects.customerLookup>['customer']>;

export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface CampaignHarness {
  app: NestFastifyApplication;
  prisma: PrismaClient;
  workspaceId: string;
  /** The cdp.delivery.requested campaign published, in order. */
  requested: Array<PayloadOf<typeof Subjects.deliveryRequested>>;
  /** A REST call with an API key of scope `campaigns:write`. */
  call(
    method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
  ): ReturnType<NestFastifyApplication['inject']>;
  /** Publishes the customer's entry into a segment (cdp.segment.entered). */
  enter(segmentId: string, customerId: string, at?: string): Promise<unknown>;
  /** Publishes the customer's erasure (cdp.customer.erased), as collection announces it. */
  erase(customerId: string): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The campaign app in-process on its own database and NATS prefix (real Postgres, Redis and NATS),
 * with a workspace, a marketer's API key, and the customer look-up answered by a raw NATS
 * responder as collection would: `customerOf(id)` says what it answers (by default a customer with
 * an email address and no consent recorded). `env` adds or overrides the service's variables.
 */
export async function startCampaign(
  label: string,
  customerOf: (customerId: string) => Partial<LookedUp> = () => ({}),
  env: Record<string, string> = {},
): Promise<CampaignHarness> {
  const prefix = testPrefix(label);
  const database = await createTestDatabase(`cdp_test_${label}_${randomBytes(4).toString('hex')}`);
  const prisma = createPrismaClient(database.url, { max: 2 });
  const apiKey = `cdp_${randomBytes(16).toString('hex')}`;
  const requested: CampaignHarness['requested'] = [];
  let nc: NatsConnection | undefined;
  let app: NestFastifyApplication | undefined;
  const close = async () => {
    await app?.close();
    await nc?.close();
    await prisma.$disconnect();
    await database.drop();
    await cleanUpRun(prefix);
  };
  try {
    const workspaceId = (await prisma.workspace.create({ data: { slug: `ws-${prefix}`, name: label } })).id;
    await prisma.apiKey.create({
      data: {
        workspaceId,
        name: 'marketer',
        keyHash: hashKey(apiKey),
        prefix: apiKey.slice(0, 8),
        scopes: ['campaigns:write'],
      },
    });
    nc = await connect({ servers: NATS_URL });
    nc.subscribe(`${prefix}.cdp-rpc.customer.lookup.*`, {
      callback: (_e, msg) => {
        const { customerId } = msg.json<{ customerId: string }>();
        const customer: LookedUp = {
          id: customerId,
          customerCode: `C-${customerId.slice(0, 8)}`,
          lifecycleStage: 'prospect',
          email: `${customerId.slice(0, 8)}@example.com`,
          traits: {},
          consents: [],
          restricted: false,
          ...customerOf(customerId),
        };
        msg.respond(JSON.stringify({ found: true, customer }));
      },
    });
    nc.subscribe(subjectFilter(prefix, Subjects.deliveryRequested.name), {
      callback: (_e, msg) => void requested.push(msg.json()),
    });
    await nc.flush();
    app = await startServiceInProcess(
      { service: 'campaign', configSchema: CampaignConfigSchema, module: (c) => AppModule.forRoot(c) },
      {
        LOG_LEVEL: 'warn',
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: '3',
        NATS_URL,
        NATS_PREFIX: prefix,
        ...env,
      },
    );
    const started = app;
    return {
      app: started,
      prisma,
      workspaceId,
      requested,
      call: (method, url, payload) =>
        started.inject({
          method,
          url,
          headers: { authorization: `Bearer ${apiKey}` },
          ...(payload && { payload }),
        }),
      enter: (segmentId, customerId, at = new Date().toISOString()) =>
        started
          .get(JetStreamPublisher)
          .publish(
            Subjects.segmentEntered,
            { workspaceId, segmentId, segmentName: 'Savers', customerId, at },
            { msgId: randomUUID() },
          ),
      erase: (customerId) =>
        started.get(JetStreamPublisher).publish(
          Subjects.customerErased,
          {
            workspaceId,
            customerId,
            customerCode: 'C-x',
            erasedIds: [customerId],
            erasedAt: new Date().toISOString(),
          },
          { msgId: randomUUID() },
        ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
