// Segment memberships follow identity merges, on the real local Postgres and NATS (own database and
// prefix): collection's cdp.identity.merged hands a merged customer's memberships to the survivor,
// so the same person does not enter (and trigger campaigns) twice; cdp.identity.unmerged undoes it.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RpcSubjects, Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

describe('segment memberships across identity merges', () => {
  let h: AnalysisHarness;
  let workspaceId: string;
  let segmentId: string;
  let otherSegmentId: string;
  let eventSeq = 0;

  const opened = (customerId: string, product = 'savings') =>
    h.publish(Subjects.eventIngested, {
      workspaceId,
      eventId: String(++eventSeq),
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
    h.prisma.segmentMembership.findMany({
      where: { customerId },
      select: { segmentId: true, exitedAt: true, endedByMerge: true, gainedByMerge: true, enteredAt: true },
      orderBy: { segmentId: 'asc' },
    });

  beforeAll(async () => {
    h = await startAnalysis('anmerge');
    workspaceId = h.workspaceId;
    segmentId = (
      await h.prisma.segment.create({
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
      await h.prisma.segment.create({
        data: {
          workspaceId,
          name: 'Borrowers',
          kind: 'realtime',
          definition: { type: 'event', name: 'Loan Taken' },
        },
      })
    ).id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('hands a merged customer’s membership to the survivor, who does not enter again', async () => {
    const [web, branch] = await h.customers(2);
    await opened(web!);
    await waitFor('the web profile in the segment', async () => (await h.current(segmentId)).includes(web!));
    const firstEntry = (await memberships(web!))[0]!.enteredAt;

    const mergedAt = new Date().toISOString();
    await h.publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'shared identifier email',
      mergeId: 'mrg-1',
      mergedAt,
    });
    await waitFor('the membership passed on', async () => (await h.current(segmentId)).includes(branch!));
    expect(await h.current(segmentId)).toEqual([branch]);
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
    expect(h.entered.filter((c) => c === branch)).toEqual([]);
    expect(h.entered.filter((c) => c === web)).toEqual([web]);

    // A redelivered merge changes nothing.
    await h.publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'shared identifier email',
      mergeId: 'mrg-1',
      mergedAt,
    });
    await sleep(500);
    expect(await h.current(segmentId)).toEqual([branch]);
  });

  it('answers a customer’s segments for a Customer 360, with history on request', async () => {
    const [web, branch] = await h.customers(2);
    await opened(web!);
    await waitFor('the membership', async () => (await h.current(segmentId)).includes(web!));
    await h.publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [web!],
      reason: 'alias',
      mergeId: 'mrg-360',
      mergedAt: new Date().toISOString(),
    });
    await waitFor('the merge applied', async () => (await h.current(segmentId)).includes(branch!));
    const get = (url: string, key = h.apiKey) =>
      h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

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

    // The same, over NATS, for collection's Customer 360 view.
    const reply = await h.app
      .get(JetStreamPublisher)
      .request(RpcSubjects.customerSegments, { workspaceId, customerId: branch! });
    expect(reply.segments).toEqual([
      { segmentId, name: 'Savers', enteredAt: survivor.json().segments[0].enteredAt },
    ]);
    expect(reply.scores).toEqual(expect.any(Array)); // the customer_value score: customer-value.int-spec.ts

    const badId = await get('/v1/customers/not-a-uuid/segments');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().issues).toEqual([{ path: '/id', reason: 'a UUID' }]);
    expect((await get(`/v1/customers/${web}/segments?history=yes`)).json().issues[0].path).toBe('/history');
    expect((await get(`/v1/customers/${web}/segments`, 'cdp_wrong')).statusCode).toBe(401);
  });

  it('counts an event of a merged customer handled after the merge for the survivor: no second entry', async () => {
    const [tablet, branch] = await h.customers(2);
    await opened(branch!);
    await waitFor('branch in the segment', async () => (await h.current(segmentId)).includes(branch!));
    // The tablet's profile had no event analysis had seen when collection merged it.
    await h.publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: branch!,
      mergedIds: [tablet!],
      reason: 'alias',
      mergeId: 'mrg-late',
      mergedAt: new Date().toISOString(),
    });
    await waitFor(
      'the merge seen',
      async () =>
        (await h.prisma.customerActivity.findUnique({ where: { customerId: tablet! } }))?.mergedInto ===
        branch,
    );
    const entries = h.entered.length;
    await opened(tablet!); // stored under the tablet before the merge, handled after it
    await waitFor(
      'counted for branch',
      async () =>
        // Two events moments apart: just under 2 once the first has decayed those moments.
        ((await h.prisma.customerActivity.findUnique({ where: { customerId: branch! } }))?.events ?? 0) >
        1.99,
    );
    await sleep(300);
    expect(await memberships(tablet!)).toEqual([]);
    expect(await h.current(segmentId)).toContain(branch);
    expect(h.entered.length).toBe(entries);
  });

  it('undoes it on unmerge: the restored customer is a member again, the survivor only if it met the rule itself', async () => {
    const [app1, app2, survivor] = await h.customers(3);
    await opened(app1!);
    await opened(app2!);
    await waitFor('both in the segment', async () => (await h.current(segmentId)).includes(app2!));
    await h.publish(Subjects.identityMerged, {
      workspaceId,
      survivorId: survivor!,
      mergedIds: [app1!, app2!],
      reason: 'alias',
      mergeId: 'mrg-2',
      mergedAt: new Date().toISOString(),
    });
    await waitFor('the merge applied', async () => (await h.current(segmentId)).includes(survivor!));
    const afterMerge = await h.current(segmentId);
    expect(afterMerge).toContain(survivor);
    expect(afterMerge).not.toContain(app1);
    expect(afterMerge).not.toContain(app2);
    // Only one membership passed on for the two merged profiles, with no entry announced.
    expect(await memberships(survivor!)).toHaveLength(1);
    expect(h.entered).not.toContain(survivor);

    await h.publish(Subjects.identityUnmerged, {
      workspaceId,
      mergeId: 'mrg-2',
      restoredIds: [app1!],
      survivorId: survivor!,
      unmergedAt: new Date().toISOString(),
    });
    await waitFor('the unmerge applied', async () => !(await h.current(segmentId)).includes(survivor!));
    expect(await h.current(segmentId)).toEqual(expect.arrayContaining([app1]));
    expect(await h.current(segmentId)).not.toContain(app2); // still merged: not restored
    expect((await memberships(survivor!))[0]).toMatchObject({ gainedByMerge: null });
    expect((await memberships(app1!))[0]).toMatchObject({ exitedAt: null, endedByMerge: null });
    // A segment the merged customers were never in is untouched.
    expect(await h.current(otherSegmentId)).toEqual([]);
  });
});
