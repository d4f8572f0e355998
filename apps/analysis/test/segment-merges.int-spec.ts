// Segment memberships follow identity merges, on the real local Postgres and NATS (own database and
// prefix): collection's cdp.identity.merged hands a merged customer's memberships to the survivor,
// so the same person does not enter (and trigger campaigns) twice; cdp.identity.unmerged undoes it.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Subjects, subjectFilter, type EventSubject, type PayloadOf } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient, type TestDatabase } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { createService, hashKey, loadConfig } from '@cdp/service-kit';
import { cleanUpRun, NATS_URL, testPrefix } from '@cdp/testing';
import { AppModule } from '../src/app.module';
import { AnalysisConfigSchema } from '../src/config';

async function waitFor<T>(
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

describe('segment memberships across identity merges', () => {
  const prefix = testPrefix('anmerge');
  let database: TestDatabase;
  let prisma: PrismaClient;
  let app: NestFastifyApplication;
  let nc: NatsConnection;
  let workspaceId: string;
  let segmentId: string;
  let otherSegmentId: string;
  const apiKey = `cdp_${randomBytes(16).toString('hex')}`;
  const entered: string[] = [];

  const publish = <S extends EventSubject>(subject: S, payload: PayloadOf<S>) =>
    app.get(JetStreamPublisher).publish(subject, payload, { msgId: randomUUID() });
  const opened = (customerId: string, product = 'savings') =>
    publish(Subjects.eventIngested, {
      workspaceId,
      eventId: String(Date.now()),
      messageId: randomUUID(),
      customerId,
      customerCode: `C-${customerId.slice(0, 8)}`,
      type: 'track',
      name: 'Account Opened',
      channel: 'web',
      properties: { product },
      occurredAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    });
  const memberships = (customerId: string) =>
    prisma.segmentMembership.findMany({
      where: { customerId },
      select: { segmentId: true, exitedAt: true, endedByMerge: true, gainedByMerge: true, enteredAt: true },
      orderBy: { segmentId: 'asc' },
    });
  const current = async (segment: string) =>
    (await prisma.segmentMembership.findMany({ where: { segmentId: segment, exitedAt: null } }))
      .map((m) => m.customerId)
      .sort();
  const customers = async (n: number) => {
    const ids = Array.from({ length: n }, () => randomUUID());
    await prisma.customer.createMany({
      data: ids.map((id, i) => ({ id, workspaceId, customerCode: `C${randomBytes(7).toString('hex')}${i}` })),
    });
    return ids;
  };

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_test_anmerge_${randomBytes(4).toString('hex')}`);
    prisma = createPrismaClient(database.url, { max: 2 });
    workspaceId = (await prisma.workspace.create({ data: { slug: `ws-${prefix}`, name: 'analysis merges' } }))
      .id;
    await prisma.apiKey.create({
      data: {
        workspaceId,
        name: 'staff',
        keyHash: hashKey(apiKey),
        prefix: apiKey.slice(0, 8),
        scopes: ['segments:read'],
      },
    });
    segmentId = (
      await prisma.segment.create({
        data: {
          workspaceId,
          name: 'Savers',
          kind: 'realtime',
          definition: {
            type: 'event',
            name: 'Account Opened',
            where: [{ property: 'product', op: 'eq', value: 'savings' }],
          },
        },
      })
    ).id;
    otherSegmentId = (
      await prisma.segment.create({
        data: {
          workspaceId,
          name: 'Borrowers',
          kind: 'realtime',
          definition: { type: 'event', name: 'Loan Taken' },
        },
      })
    ).id;
    nc = await connect({ servers: NATS_URL });
    nc.subscribe(subjectFilter(prefix, Subjects.segmentEntered.name), {
      callback: (_e, msg) => void entered.push(msg.json<{ customerId: string }>().customerId),
    });
    const config = loadConfig(AnalysisConfigSchema, {
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '3',
      NATS_URL,
      NATS_PREFIX: prefix,
    });
    app = await createService(
      { service: 'analysis', configSchema: AnalysisConfigSchema, module: (c) => AppModule.forRoot(c) },
      config,
    );
    await app.init();
    await app.startAllMicroservices();
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await prisma?.$disconnect();
    await database?.drop();
    await cleanUpRun(prefix);
  });

  it('hands a merged customer’s membership to the survivor, who does not enter again', async () => {
    const [web, branch] = await customers(2);
    await opened(web!);
    await waitFor('the web profile in the segment', async () => (await current(segmentId)).includes(web!));
    const firstEntry = (await memberships(web!))[0]!.enteredAt;

    const mergedAt = new Date().toISOString();
    await publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'shared identifier email',
      mergeId: 'mrg-1',
      mergedAt,
    });
    await waitFor('the membership passed on', async () => (await current(segmentId)).includes(branch!));
    expect(await current(segmentId)).toEqual([branch]);
    expect(await memberships(branch!)).toEqual([
      { segmentId, exitedAt: null, endedByMerge: null, gainedByMerge: 'mrg-1', enteredAt: firstEntry },
    ]);
    expect(await memberships(web!)).toEqual([
      {
        segmentId,
        exitedAt: new Date(mergedAt),
        endedByMerge: 'mrg-1',
        gainedByMerge: null,
        enteredAt: firstEntry,
      },
    ]);

    // The person's next qualifying event (now under the survivor) is no new entry.
    await opened(branch!);
    await waitFor(
      'the survivor’s own qualifying event',
      async () => (await memberships(branch!))[0]?.gainedByMerge === null,
    );
    expect(entered.filter((c) => c === branch)).toEqual([]);
    expect(entered.filter((c) => c === web)).toEqual([web]);

    // A redelivered merge changes nothing.
    await publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'shared identifier email',
      mergeId: 'mrg-1',
      mergedAt,
    });
    await sleep(500);
    expect(await current(segmentId)).toEqual([branch]);
  });

  it('answers a customer’s segments for a Customer 360, with history on request', async () => {
    const [web, branch] = await customers(2);
    await opened(web!);
    await waitFor('the membership', async () => (await current(segmentId)).includes(web!));
    await publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'alias',
      mergeId: 'mrg-360',
      mergedAt: new Date().toISOString(),
    });
    await waitFor('the merge applied', async () => (await current(segmentId)).includes(branch!));
    const get = (url: string, key = apiKey) =>
      app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

    const survivor = await get(`/v1/customers/${branch}/segments`);
    expect(survivor.statusCode).toBe(200);
    expect(survivor.json()).toEqual({
      customerId: branch,
      segments: [
        {
          segmentId,
          name: 'Savers',
          enteredAt: expect.any(String),
          exitedAt: null,
          gainedByMerge: 'mrg-360',
        },
      ],
    });
    expect((await get(`/v1/customers/${web}/segments`)).json().segments).toEqual([]);
    expect((await get(`/v1/customers/${web}/segments?history=true`)).json().segments).toEqual([
      expect.objectContaining({ segmentId, exitedAt: expect.any(String), endedByMerge: 'mrg-360' }),
    ]);

    const badId = await get('/v1/customers/not-a-uuid/segments');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().issues).toEqual([{ path: '/id', reason: 'a UUID' }]);
    expect((await get(`/v1/customers/${web}/segments?history=yes`)).json().issues[0].path).toBe('/history');
    expect((await get(`/v1/customers/${web}/segments`, 'cdp_wrong')).statusCode).toBe(401);
  });

  it('undoes it on unmerge: the restored customer is a member again, the survivor only if it met the rule itself', async () => {
    const [app1, app2, survivor] = await customers(3);
    await opened(app1!);
    await opened(app2!);
    await waitFor('both in the segment', async () => (await current(segmentId)).includes(app2!));
    await publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: survivor!,
      mergedIds: [app1!, app2!],
      reason: 'alias',
      mergeId: 'mrg-2',
      mergedAt: new Date().toISOString(),
    });
    await waitFor('the merge applied', async () => (await current(segmentId)).includes(survivor!));
    const afterMerge = await current(segmentId);
    expect(afterMerge).toContain(survivor);
    expect(afterMerge).not.toContain(app1);
    expect(afterMerge).not.toContain(app2);
    // Only one membership passed on for the two merged profiles, with no entry announced.
    expect(await memberships(survivor!)).toHaveLength(1);
    expect(entered).not.toContain(survivor);

    await publish(Subjects.identityUnmerged, {
      workspaceId,
      mergeId: 'mrg-2',
      restoredIds: [app1!],
      survivorId: survivor!,
      unmergedAt: new Date().toISOString(),
    });
    await waitFor('the unmerge applied', async () => !(await current(segmentId)).includes(survivor!));
    expect(await current(segmentId)).toEqual(expect.arrayContaining([app1]));
    expect(await current(segmentId)).not.toContain(app2); // still merged: not restored
    expect((await memberships(survivor!))[0]).toMatchObject({ gainedByMerge: null });
    expect((await memberships(app1!))[0]).toMatchObject({ exitedAt: null, endedByMerge: null });
    // A segment the merged customers were never in is untouched.
    expect(await current(otherSegmentId)).toEqual([]);
  });
});
