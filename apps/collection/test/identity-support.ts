// Shared set-up of the identity integration suites: the collection app in-process on its own test
// database and NATS prefix, a workspace with an API key, and helpers that call IdentityService in
// real transactions the way ingest does.
import { randomBytes, randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Streams } from '@cdp/contracts';
import { createTestDatabase, type Customer, type PrismaClient } from '@cdp/db';
import { DatabaseService, loadConfig } from '@cdp/service-kit';
import { AppModule } from '../src/app.module';
import { CollectionConfigSchema } from '../src/config';
import { IdentityService, type Identifier } from '../src/identity/identity.service';
import { MergeAnnouncer } from '../src/merges/merge-announcer';
import { MergeService } from '../src/merges/merge.service';
import { bootstrapWorkspace } from '../src/workspaces/bootstrap-workspace';
import { profileUpdatesOn, type ProfileUpdateMessage } from './ingest-fixtures';
import { cleanUpRun, NATS_URL, testPrefix } from '@cdp/testing';

export const TEST_NATIONAL_ID_SECRET = 'identity-test-master-secret-0123456789abcdef';

export interface Call {
  type?: 'track' | 'identify' | 'alias';
  userId?: string;
  anonymousId?: string;
  previousId?: string;
  traits?: Record<string, unknown>;
  context?: Record<string, unknown>;
  messageId?: string;
}

export interface IdentityHarness {
  app: NestFastifyApplication;
  prisma: PrismaClient;
  identity: IdentityService;
  merges: MergeService;
  announcer: MergeAnnouncer;
  prefix: string;
  workspaceId: string;
  sourceId: string;
  apiKey: string;
  databaseUrl: string;
  /** Resolves one call in its own transaction, as ingest does. */
  resolve(call: Call, seenAt?: Date): Promise<Customer>;
  /** Stores an event for a customer the way ingest does after resolving. */
  addEvent(customerId: string, call: Call, receivedAt?: Date): Promise<bigint>;
  request(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
    apiKey?: string,
  ): Promise<{ status: number; body: any }>;
  /** Messages per subject stored on the EVENTS stream for `subjects` (default: the identity subjects). */
  identitySubjects(subjects?: string): Promise<Record<string, number>>;
  /** The cdp.profile.updated messages published so far. */
  profileUpdates(): Promise<ProfileUpdateMessage[]>;
  close(): Promise<void>;
}

export async function startIdentityHarness(
  label: string,
  env: Record<string, string> = {},
): Promise<IdentityHarness> {
  const database = await createTestDatabase(`cdp_test_identity_${label}_${randomBytes(4).toString('hex')}`);
  const prefix = testPrefix(`id${label}`);
  const config = loadConfig(CollectionConfigSchema, {
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '12',
    NATS_URL,
    NATS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    NATIONAL_ID_HMAC_SECRET: TEST_NATIONAL_ID_SECRET,
    MERGE_OUTBOX_SWEEP_MS: '60000',
    ...env,
  });
  let app: NestFastifyApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await app?.close();
    await database.drop();
    throw error;
  }
  const started = app;
  const prisma = started.get(DatabaseService).client;
  const ws = await bootstrapWorkspace(prisma, `identity-${label}`);
  const identity = started.get(IdentityService);

  const harness: IdentityHarness = {
    app: started,
    prisma,
    identity,
    merges: started.get(MergeService),
    announcer: started.get(MergeAnnouncer),
    prefix,
    workspaceId: ws.workspaceId,
    sourceId: ws.sourceId,
    apiKey: ws.apiKey,
    databaseUrl: database.url,
    resolve: (call, seenAt = new Date()) => {
      const identifiers: Identifier[] = identity.identifiersOf({
        workspaceId: ws.workspaceId,
        type: 'track',
        ...call,
      });
      return prisma.$transaction(
        (tx) =>
          identity.resolve(tx, ws.workspaceId, identifiers, ws.sourceId, seenAt, {
            messageId: call.messageId ?? randomUUID(),
          }),
        { maxWait: 20_000, timeout: 20_000 },
      );
    },
    addEvent: async (customerId, call, receivedAt = new Date()) => {
      const event = await prisma.event.create({
        data: {
          workspaceId: ws.workspaceId,
          customerId,
          messageId: call.messageId ?? randomUUID(),
          sourceId: ws.sourceId,
          type: call.type ?? 'track',
          name: 'Page Viewed',
          channel: 'web',
          userId: call.userId ?? null,
          anonymousId: call.anonymousId ?? null,
          occurredAt: receivedAt,
          receivedAt,
        },
      });
      return event.id;
    },
    request: async (method, url, body, apiKey = ws.apiKey) => {
      const res = await started.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { payload: JSON.stringify(body) }),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    },
    identitySubjects: async (subjects = 'cdp.identity.>') => {
      const nc = await connect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info(`${prefix}_${Streams.EVENTS.name}`, {
          subjects_filter: `${prefix}.${subjects}`,
        });
        return info.state.subjects ?? {};
      } finally {
        await nc.close();
      }
    },
    profileUpdates: async () => {
      const nc = await connect({ servers: NATS_URL });
      try {
        return await profileUpdatesOn(nc, prefix);
      } finally {
        await nc.close();
      }
    },
    close: async () => {
      await started.close();
      await cleanUpRun(prefix);
      await database.drop();
    },
  };
  return harness;
}
