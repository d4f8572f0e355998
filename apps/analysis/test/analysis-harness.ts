import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { streamName, Subjects, subjectFilter, type EventSubject, type PayloadOf } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { hashKey, startServiceInProcess } from '@cdp/service-kit';
import { cleanUpRun, NATS_URL, testPrefix } from '@cdp/testing';
import { AppModule } from '../src/app.module';
import { AnalysisConfigSchema } from '../src/config';

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface AnalysisHarness {
  app: NestFastifyApplication;
  prisma: PrismaClient;
  workspaceId: string;
  /** An API key with the `segments:read` scope. */
  apiKey: string;
  /** An API key with the `admin` scope. */
  adminKey: string;
  /**
   * Customer ids announced on cdp.segment.entered / cdp.segment.exited, in order, as published
   * (a duplicate JetStream does not store, by its Nats-Msg-Id, is here too: see `stored`).
   */
  entered: string[];
  exited: string[];
  /** cdp.score.updated announcements, in order. */
  scoreUpdates: Array<PayloadOf<typeof Subjects.scoreUpdated>>;
  publish<S extends EventSubject>(subject: S, payload: PayloadOf<S>): Promise<unknown>;
  /**
   * Publishes a stored event (cdp.event.ingested) of `customerId`: a track call at `occurredAt`
   * (default now), its messageId derived from `eventId` (the same id again is a redelivery).
   */
  ingested(event: {
    customerId: string;
    eventId: number;
    name: string;
    properties?: Record<string, unknown>;
    occurredAt?: string;
  }): Promise<unknown>;
  /** Publishes collection's announcement of a customer's profile (cdp.profile.updated). */
  profileUpdated(profile: {
    customerId: string;
    stage: PayloadOf<typeof Subjects.profileUpdated>['lifecycleStage'];
    traits: Record<string, unknown>;
    changedTraits: string[];
    updatedAt: string;
  }): Promise<unknown>;
  /** POST /v1/segments with the admin key. */
  createSegment(name: string, definition: unknown): ReturnType<NestFastifyApplication['inject']>;
  /** Waits until analysis has kept a profile snapshot of each of these customers. */
  snapshotsKept(customerIds: string[]): Promise<void>;
  /** The messages of a subject its stream holds (what durable consumers get), in order. */
  stored<S extends EventSubject>(subject: S): Promise<Array<PayloadOf<S>>>;
  /** Creates `n` customers (the memberships' foreign key) and returns their ids. */
  customers(n: number): Promise<string[]>;
  /** Current members of a segment, sorted. */
  current(segmentId: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The analysis app in-process on its own database and NATS prefix (real Postgres and NATS), with
 * one workspace, a staff API key, and a listener for the segment announcements.
 */
export async function startAnalysis(label: string): Promise<AnalysisHarness> {
  const prefix = testPrefix(label);
  const database = await createTestDatabase(`cdp_test_${label}_${randomBytes(4).toString('hex')}`);
  const prisma = createPrismaClient(database.url, { max: 2 });
  const workspaceId = (await prisma.workspace.create({ data: { slug: `ws-${prefix}`, name: label } })).id;
  const apiKey = `cdp_${randomBytes(16).toString('hex')}`;
  const adminKey = `cdp_${randomBytes(16).toString('hex')}`;
  const key = (name: string, value: string, scopes: string[]) => ({
    workspaceId,
    name,
    keyHash: hashKey(value),
    prefix: value.slice(0, 8),
    scopes,
  });
  await prisma.apiKey.createMany({
    data: [key('staff', apiKey, ['segments:read']), key('admin', adminKey, ['admin'])],
  });
  const entered: string[] = [];
  const exited: string[] = [];
  const scoreUpdates: Array<PayloadOf<typeof Subjects.scoreUpdated>> = [];
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
    nc = await connect({ servers: NATS_URL });
    for (const [subject, into] of [
      [Subjects.segmentEntered, entered],
      [Subjects.segmentExited, exited],
    ] as const)
      nc.subscribe(subjectFilter(prefix, subject.name), {
        callback: (_e, msg) => void into.push(msg.json<{ customerId: string }>().customerId),
      });
    nc.subscribe(subjectFilter(prefix, Subjects.scoreUpdated.name), {
      callback: (_e, msg) => void scoreUpdates.push(msg.json()),
    });
    app = await startServiceInProcess(
      { service: 'analysis', configSchema: AnalysisConfigSchema, module: (c) => AppModule.forRoot(c) },
      {
        LOG_LEVEL: 'warn',
        DATABASE_URL: database.url,
        DATABASE_POOL_SIZE: '3',
        NATS_URL,
        NATS_PREFIX: prefix,
      },
    );
  } catch (error) {
    await close();
    throw error;
  }
  const started = app;
  return {
    app: started,
    prisma,
    workspaceId,
    apiKey,
    adminKey,
    entered,
    exited,
    scoreUpdates,
    publish: (subject, payload) =>
      started.get(JetStreamPublisher).publish(subject, payload, { msgId: randomUUID() }),
    ingested: ({ customerId, eventId, name, properties = {}, occurredAt }) =>
      started.get(JetStreamPublisher).publish(
        Subjects.eventIngested,
        {
          workspaceId,
          eventId: String(eventId),
          messageId: `m-${eventId}`,
          customerId,
          customerCode: `C-${customerId.slice(0, 8)}`,
          type: 'track',
          name,
          channel: 'web',
          properties,
          occurredAt: occurredAt ?? new Date().toISOString(),
          receivedAt: new Date().toISOString(),
        },
        { msgId: randomUUID() },
      ),
    profileUpdated: ({ customerId, stage, traits, changedTraits, updatedAt }) =>
      started.get(JetStreamPublisher).publish(
        Subjects.profileUpdated,
        {
          workspaceId,
          customerId,
          customerCode: `C-${customerId.slice(0, 8)}`,
          lifecycleStage: stage,
          changedTraits,
          traits,
          updatedAt,
        },
        { msgId: randomUUID() },
      ),
    createSegment: (name, definition) =>
      started.inject({
        method: 'POST',
        url: '/v1/segments',
        headers: { authorization: `Bearer ${adminKey}` },
        payload: { name, definition } as object,
      }),
    snapshotsKept: async (customerIds) => {
      await waitFor(
        `profile snapshots of ${customerIds.length} customer(s)`,
        async () =>
          (await prisma.profileSnapshot.count({ where: { customerId: { in: customerIds } } })) ===
          customerIds.length,
      );
    },
    async stored(subject) {
      // An ordered (ephemeral) consumer of the subject reads what the stream holds of it.
      const consumer = await jetstream(nc).consumers.get(streamName(prefix, subject.stream), {
        filter_subjects: subjectFilter(prefix, subject.name),
      });
      const { num_pending: pending } = await consumer.info();
      const out: Array<PayloadOf<typeof subject>> = [];
      if (!pending) return out;
      for await (const m of await consumer.fetch({ max_messages: pending, expires: 5000 })) {
        out.push(m.json());
        if (out.length >= pending) break;
      }
      return out;
    },
    async customers(n) {
      const ids = Array.from({ length: n }, () => randomUUID());
      await prisma.customer.createMany({
        data: ids.map((id, i) => ({
          id,
          workspaceId,
          customerCode: `C${randomBytes(7).toString('hex')}${i}`,
        })),
      });
      return ids;
    },
    async current(segmentId) {
      const rows = await prisma.segmentMembership.findMany({ where: { segmentId, exitedAt: null } });
      return rows.map((m) => m.customerId).sort();
    },
    close,
  };
}
