// Restriction of processing (cdp.customer.restricted) on the real local Postgres, NATS and Redis
// (own database and prefix): the customer leaves their segments, their events are neither
// segmented nor scored while it lasts, and lifting it gives the memberships back; a change older
// than the one recorded is ignored.
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects } from '@cdp/contracts';
import { ScoresService } from '../src/scores/scores.service';
import { startAnalysis, waitFor, type AnalysisHarness } from './analysis-harness';

describe('restriction of processing', () => {
  let h: AnalysisHarness;
  let nextEventId = 9000;
  let savers: string;
  let applicants: string;

  const event = (customerId: string, name: string) =>
    h.ingested({ customerId, eventId: ++nextEventId, name });
  const restrict = (customerId: string, restricted: boolean, changedAt: string) =>
    h.publish(Subjects.customerRestricted, {
      workspaceId: h.workspaceId,
      customerId,
      customerCode: `C-${customerId.slice(0, 8)}`,
      restricted,
      changedAt,
    });
  const segment = async (name: string, eventName: string) => {
    const made = await h.app.inject({
      method: 'POST',
      url: '/v1/segments',
      headers: { authorization: `Bearer ${h.adminKey}` },
      payload: { name, definition: { type: 'event', name: eventName } },
    });
    expect(made.statusCode).toBe(201);
    return made.json<{ id: string }>().id;
  };
  const eventsCounted = async (customerId: string) =>
    (await h.prisma.customerActivity.findUnique({ where: { customerId } }))?.events ?? 0;

  beforeAll(async () => {
    h = await startAnalysis('anrestrict');
    savers = await segment('Savers', 'Account Opened');
    applicants = await segment('Applicants', 'Loan Applied');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('takes a restricted customer out of their segments and passes over their events until it is lifted', async () => {
    const [mia, kai] = await h.customers(2);
    await event(mia!, 'Account Opened');
    await event(kai!, 'Account Opened');
    await waitFor('both savers', async () => (await h.current(savers)).length === 2);
    const restrictedAt = new Date().toISOString();
    await restrict(mia!, true, restrictedAt);
    await waitFor('mia out', async () => !(await h.current(savers)).includes(mia!));
    expect(await h.current(savers)).toEqual([kai]);
    const exits = (await h.stored(Subjects.segmentExited)).filter((e) => e.customerId === mia);
    expect(exits).toMatchObject([{ segmentId: savers, cause: 'restricted' }]);

    // While restricted: no segment entered, no event counted.
    await event(mia!, 'Loan Applied');
    await event(kai!, 'Loan Applied');
    await waitFor('kai an applicant', async () => (await h.current(applicants)).includes(kai!));
    await sleep(300);
    expect(await h.current(applicants)).toEqual([kai]);
    expect(await eventsCounted(mia!)).toBeCloseTo(1, 3);

    // A lift older than the restriction (overtaken) changes nothing; the real one gives Savers back.
    await restrict(mia!, false, new Date(Date.parse(restrictedAt) - 60_000).toISOString());
    await sleep(300);
    expect(await h.current(savers)).not.toContain(mia);
    await restrict(mia!, false, new Date().toISOString());
    await waitFor('mia back', async () => (await h.current(savers)).includes(mia!));
    const entries = (await h.stored(Subjects.segmentEntered)).filter((e) => e.customerId === mia);
    expect(entries.map((e) => e.cause)).toEqual([expect.stringMatching(/^m-/), 'restriction lifted']);
    expect(await h.current(applicants)).not.toContain(mia); // what came while restricted stays unanalysed
    await event(mia!, 'Loan Applied');
    await waitFor('mia an applicant now', async () => (await h.current(applicants)).includes(mia!));
    await waitFor('the event counted', async () => (await eventsCounted(mia!)) > 1.5);
  });

  it('leaves the score of a restricted customer as it is in the daily re-scoring, until lifted', async () => {
    const [ida, jon] = await h.customers(2);
    await event(ida!, 'Account Opened');
    await event(jon!, 'Account Opened');
    const scored = () => h.prisma.score.findMany({ where: { customerId: { in: [ida!, jon!] } } });
    await waitFor('both scored', async () => (await scored()).length === 2);
    await restrict(ida!, true, new Date().toISOString());
    await waitFor(
      'ida recorded as restricted',
      async () => (await h.prisma.restrictedCustomer.findUnique({ where: { customerId: ida! } }))?.restricted,
    );
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    await h.prisma.score.updateMany({
      where: { customerId: { in: [ida!, jon!] } },
      data: { computedAt: dayAgo },
    });
    const rescored = async () =>
      (await scored()).filter((s) => s.computedAt > dayAgo).map((s) => s.customerId);

    expect(await h.app.get(ScoresService).rescoreStale()).toBe(1);
    expect(await rescored()).toEqual([jon]);
    await restrict(ida!, false, new Date().toISOString());
    await waitFor(
      'ida lifted',
      async () =>
        !(await h.prisma.restrictedCustomer.findUnique({ where: { customerId: ida! } }))?.restricted,
    );
    expect(await h.app.get(ScoresService).rescoreStale()).toBe(1);
    expect((await rescored()).sort()).toEqual([ida, jon].sort());
  });
});
