/**
 * Tracking plans and the data dictionary, in-process on the real local Postgres and NATS: rules
 * saved over REST (bad schemas refused), report mode (accepted, marked, counted), block mode
 * (refused alone and in a batch), unplanned-event policies per workspace and source, plan changes
 * taking effect (on this replica at once, from elsewhere within the cache time), and the dictionary.
 */
import { randomBytes } from 'node:crypto';
import { hashKey } from '@cdp/service-kit';
import { PlanObservationsService } from '../src/tracking-plans/plan-observations.service';
import { PLAN_CACHE_MS } from '../src/tracking-plans/tracking-plans.service';
import {
  acceptedPayloads,
  basicAuth,
  startCollection,
  waitUntil,
  type TrackingHarness,
} from './tracking-harness';

describe('tracking plans', () => {
  let h: TrackingHarness;
  let writeAuth: string;
  let otherSource: { id: string; auth: string };
  let seq = 0;
  const nextId = (label: string) => `${label}-${++seq}`;

  beforeAll(async () => {
    h = await startCollection('plans');
    writeAuth = basicAuth(h.keys.writeKey);
    const writeKey = `wk_other_${randomBytes(12).toString('hex')}`;
    const source = await h.db.source.create({
      data: {
        workspaceId: h.keys.workspaceId,
        name: 'other app',
        kind: 'app',
        writeKeyHash: hashKey(writeKey),
        writeKeyPrefix: writeKey.slice(0, 8),
      },
    });
    otherSource = { id: source.id, auth: basicAuth(writeKey) };
  });
  afterAll(async () => {
    await h?.close();
  });

  const admin = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${h.keys.apiKey}`, 'content-type': 'application/json' },
      ...(payload !== undefined && { payload: JSON.stringify(payload) }),
    });
  const send = (type: string, payload: unknown, auth = writeAuth) =>
    h.app.inject({
      method: 'POST',
      url: `/v1/${type}`,
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
  const putRule = async (rule: Record<string, unknown>) => {
    const res = await admin('PUT', '/v1/tracking-plan/rules', rule);
    expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status: 200 });
    return res.json().rule as { id: string };
  };
  const published = async (messageId: string) =>
    waitUntil(`${messageId} on the ingest stream`, async () =>
      (await acceptedPayloads(h.prefix)).find((p) => p.messageId === messageId),
    );
  const flush = () => h.app.get(PlanObservationsService).flush();
  const violations = async (query = '') => {
    await flush();
    const res = await admin('GET', `/v1/tracking-plan/violations${query}`);
    expect(res.statusCode).toBe(200);
    return res.json().violations as Array<Record<string, any>>;
  };

  it('refuses rules whose schema does not compile, naming the field path and the reason', async () => {
    const badType = await admin('PUT', '/v1/tracking-plan/rules', {
      type: 'track',
      event: 'Broken',
      mode: 'report',
      schema: { type: 'object', properties: { amount: { type: 'numbr' } } },
    });
    expect(badType.statusCode).toBe(400);
    expect(badType.json().issues).toEqual([
      { path: '/schema/properties/amount/type', reason: expect.stringContaining('must be equal to one of') },
    ]);

    const typo = await admin('PUT', '/v1/tracking-plan/rules', {
      type: 'track',
      event: 'Broken',
      mode: 'block',
      schema: { requierd: ['amount'] },
    });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().issues).toEqual([{ path: '/schema', reason: expect.stringContaining('requierd') }]);

    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: 'track', mode: 'report', schema: {} }, '/event'],
      [{ type: 'identify', event: 'x', mode: 'report', schema: {} }, '/event'],
      [{ type: 'track', event: 'x', mode: 'warn', schema: {} }, '/mode'],
      [{ type: 'track', event: 'x', mode: 'report', schema: {}, sourceId: 'no-such-source' }, '/sourceId'],
    ];
    for (const [body, path] of cases) {
      const res = await admin('PUT', '/v1/tracking-plan/rules', body);
      expect({
        body,
        status: res.statusCode,
        paths: res.json().issues.map((i: { path: string }) => i.path),
      }).toEqual({
        body,
        status: 400,
        paths: expect.arrayContaining([path]),
      });
    }
    expect(await h.db.trackingPlanRule.count({ where: { workspaceId: h.keys.workspaceId } })).toBe(0);

    const anonymous = await h.app.inject({ method: 'GET', url: '/v1/tracking-plan/rules' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('report mode: the call is accepted, carries its violations, and they are counted with a sample', async () => {
    const rule = await putRule({
      type: 'track',
      event: 'Loan Applied',
      mode: 'report',
      description: 'A loan application was submitted',
      schema: {
        type: 'object',
        properties: { amount: { type: 'number' }, currency: { enum: ['KRW', 'USD'] } },
        required: ['amount', 'currency'],
      },
    });
    const audit = await h.db.auditLog.findFirst({ where: { entityId: rule.id } });
    expect(audit).toMatchObject({ action: 'tracking_plan_rule.created', entityType: 'TrackingPlanRule' });

    const good = nextId('report-good');
    const bad = nextId('report-bad');
    expect(
      (
        await send('track', {
          messageId: good,
          userId: 'u1',
          event: 'Loan Applied',
          properties: { amount: 5, currency: 'KRW' },
        })
      ).json(),
    ).toEqual({ success: true });
    const res = await send('track', {
      messageId: bad,
      userId: 'u1',
      event: 'Loan Applied',
      properties: { amount: 'ten' },
    });
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 200, body: { success: true } });

    expect((await published(good)).violations).toBeUndefined();
    expect((await published(bad)).violations).toEqual(
      expect.arrayContaining([
        { path: '/properties/amount', reason: 'must be number' },
        { path: '/properties/currency', reason: 'is required' },
      ]),
    );

    const counted = await violations('?event=Loan%20Applied');
    expect(counted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          sourceId: h.keys.sourceId,
          type: 'track',
          event: 'Loan Applied',
          path: '/properties/amount',
          reason: 'must be number',
          count: 1,
          blocked: 0,
          sample: { messageId: bad, value: { amount: 'ten' } },
        }),
      ]),
    );
    // A second flush adds to the same hourly row.
    await send('track', {
      messageId: nextId('report-bad'),
      userId: 'u1',
      event: 'Loan Applied',
      properties: { amount: 'x', currency: 'KRW' },
    });
    const again = await violations('?event=Loan%20Applied');
    expect(again.find((v) => v.path === '/properties/amount')).toMatchObject({ count: 2 });
    expect(again.find((v) => v.path === '/properties/currency')).toMatchObject({ count: 1 });
  });

  it('block mode: a single call is a 400 with path and reason; in a batch it is rejected and the others stored', async () => {
    await putRule({
      type: 'identify',
      mode: 'block',
      schema: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
    });
    const single = nextId('block-single');
    const res = await send('identify', {
      messageId: single,
      userId: 'u2',
      traits: { email: 'not-an-email' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().issues).toEqual([{ path: '/traits/email', reason: 'must match format "email"' }]);

    const goodId = nextId('block-batch-good');
    const badId = nextId('block-batch-bad');
    const batch = await h.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: writeAuth, 'content-type': 'application/json' },
      payload: JSON.stringify({
        batch: [
          { type: 'identify', messageId: goodId, userId: 'u2', traits: { email: 'u2@example.com' } },
          { type: 'identify', messageId: badId, userId: 'u3', traits: { email: 42 } },
        ],
      }),
    });
    expect({ status: batch.statusCode, body: batch.json() }).toEqual({
      status: 200,
      body: {
        success: true,
        rejected: [{ index: 1, issues: [{ path: '/traits/email', reason: 'must be string' }] }],
      },
    });
    await published(goodId);
    const ids = (await acceptedPayloads(h.prefix)).map((p) => p.messageId);
    expect(ids).not.toContain(badId);
    expect(ids).not.toContain(single);

    const counted = await violations();
    expect(
      counted.find(
        (v) => v.type === 'identify' && v.path === '/traits/email' && v.reason === 'must be string',
      ),
    ).toMatchObject({
      count: 1,
      blocked: 1,
      sample: { messageId: badId, value: { email: 42 } },
    });
  });

  it('unplanned events: workspace policy, source override, allow', async () => {
    const unplanned = (id: string) => ({
      messageId: id,
      userId: 'u4',
      event: 'Never Planned',
      properties: { x: 1 },
    });
    let res = await admin('PUT', '/v1/tracking-plan/unplanned-events', { policy: 'report' });
    expect(res.json()).toEqual({ workspace: 'report', sources: [] });
    res = await admin('PUT', '/v1/tracking-plan/unplanned-events', {
      sourceId: otherSource.id,
      policy: 'block',
    });
    expect(res.json()).toMatchObject({
      workspace: 'report',
      sources: [{ sourceId: otherSource.id, policy: 'block' }],
    });

    const reported = nextId('unplanned-report');
    expect((await send('track', unplanned(reported))).statusCode).toBe(200);
    expect((await published(reported)).violations).toEqual([
      { path: '/event', reason: 'event is not in the tracking plan' },
    ]);

    const blocked = await send('track', unplanned(nextId('unplanned-block')), otherSource.auth);
    expect(blocked.statusCode).toBe(400);
    expect(blocked.json().issues).toEqual([{ path: '/event', reason: 'event is not in the tracking plan' }]);
    // Identify and page calls without a rule are not "unplanned events".
    expect(
      (
        await send(
          'page',
          { messageId: nextId('unplanned-page'), userId: 'u4', name: 'Home' },
          otherSource.auth,
        )
      ).statusCode,
    ).toBe(200);

    const counts = await violations('?event=Never%20Planned');
    expect(counts.map((v) => [v.sourceId, v.count, v.blocked]).sort()).toEqual(
      [
        [h.keys.sourceId, 1, 0],
        [otherSource.id, 1, 1],
      ].sort(),
    );

    await admin('PUT', '/v1/tracking-plan/unplanned-events', { policy: 'allow' });
    await admin('PUT', '/v1/tracking-plan/unplanned-events', { sourceId: otherSource.id, policy: 'allow' });
    const allowed = nextId('unplanned-allow');
    expect((await send('track', unplanned(allowed), otherSource.auth)).statusCode).toBe(200);
    expect((await published(allowed)).violations).toBeUndefined();
  });

  it('a plan change applies at once on this replica, and within the cache time when made elsewhere', async () => {
    const rule = await putRule({
      type: 'track',
      event: 'Card Activated',
      mode: 'report',
      schema: { type: 'object', properties: { last4: { type: 'string', pattern: '^[0-9]{4}$' } } },
    });
    const call = () => ({
      messageId: nextId('change'),
      userId: 'u5',
      event: 'Card Activated',
      properties: { last4: 'abcd' },
    });
    expect((await send('track', call())).statusCode).toBe(200);

    await putRule({
      type: 'track',
      event: 'Card Activated',
      mode: 'block',
      schema: { type: 'object', properties: { last4: { type: 'string', pattern: '^[0-9]{4}$' } } },
    });
    const refused = await send('track', call());
    expect(refused.statusCode).toBe(400);
    expect(refused.json().issues).toEqual([
      { path: '/properties/last4', reason: 'must match pattern "^[0-9]{4}$"' },
    ]);
    expect(
      await h.db.trackingPlanRule.count({
        where: { workspaceId: h.keys.workspaceId, eventName: 'Card Activated' },
      }),
    ).toBe(1);

    // A source's own rule takes precedence over the workspace-wide one.
    await putRule({
      sourceId: otherSource.id,
      type: 'track',
      event: 'Card Activated',
      mode: 'report',
      schema: {},
    });
    expect((await send('track', call(), otherSource.auth)).statusCode).toBe(200);

    // Changed by another replica (straight in the table): this one keeps its cached plan for up to
    // PLAN_CACHE_MS, then applies the change.
    expect((await send('track', call())).statusCode).toBe(400); // plan of this source cached now
    const changedAt = Date.now();
    await h.db.trackingPlanRule.update({ where: { id: rule.id }, data: { mode: 'report' } });
    expect((await send('track', call())).statusCode).toBe(400);
    await waitUntil(
      'the rule change to apply',
      async () => (await send('track', call())).statusCode === 200,
      PLAN_CACHE_MS + 3000,
    );
    expect(Date.now() - changedAt).toBeLessThan(PLAN_CACHE_MS + 1000);

    const del = await admin('DELETE', `/v1/tracking-plan/rules/${rule.id}`);
    expect(del.statusCode).toBe(204);
    expect((await admin('DELETE', `/v1/tracking-plan/rules/${rule.id}`)).statusCode).toBe(404);
    const after = nextId('change-deleted');
    expect((await send('track', { ...call(), messageId: after })).statusCode).toBe(200);
    expect((await published(after)).violations).toBeUndefined();
    expect(await h.db.auditLog.count({ where: { entityId: rule.id } })).toBe(3);
  });

  it('page rules match the page name and check properties; group rules check the group traits', async () => {
    await putRule({ type: 'page', event: 'Pricing', mode: 'block', schema: { required: ['plan'] } });
    await putRule({
      type: 'group',
      mode: 'block',
      schema: { properties: { employees: { type: 'integer' } } },
    });
    const page = await send('page', {
      messageId: nextId('page'),
      userId: 'u7',
      name: 'Pricing',
      properties: {},
    });
    expect({ status: page.statusCode, issues: page.json().issues }).toEqual({
      status: 400,
      issues: [{ path: '/properties/plan', reason: 'is required' }],
    });
    // Another page name is not covered by the rule.
    expect((await send('page', { messageId: nextId('page'), userId: 'u7', name: 'Home' })).statusCode).toBe(
      200,
    );
    const group = await send('group', {
      messageId: nextId('group'),
      userId: 'u7',
      groupId: 'acme',
      traits: { employees: 'many' },
    });
    expect({ status: group.statusCode, issues: group.json().issues }).toEqual({
      status: 400,
      issues: [{ path: '/traits/employees', reason: 'must be integer' }],
    });
  });

  it('counts a violation at a client-chosen key too long for an index entry, with the path cut', async () => {
    await putRule({
      type: 'track',
      event: 'Strict Event',
      mode: 'report',
      schema: { additionalProperties: false },
    });
    // Random, so that Postgres cannot compress it under the btree's limit of about 2.7 KB per entry.
    const longKey = randomBytes(2500).toString('hex');
    const id = nextId('long-key');
    expect(
      (
        await send('track', {
          messageId: id,
          userId: 'u8',
          event: 'Strict Event',
          properties: { [longKey]: 1 },
        })
      ).statusCode,
    ).toBe(200);
    const counted = await violations('?event=Strict%20Event');
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatchObject({ count: 1, reason: 'is not allowed by the tracking plan' });
    expect(counted[0]!.path).toHaveLength(300);
    expect(counted[0]!.path.startsWith(`/properties/${longKey.slice(0, 100)}`)).toBe(true);
  });

  it('a count Postgres refuses is dropped alone; the rest of the flush is written', async () => {
    const observations = h.app.get(PlanObservationsService);
    const call = {
      workspaceId: h.keys.workspaceId,
      sourceId: h.keys.sourceId,
      messageId: nextId('flush'),
      type: 'track' as const,
      event: 'Flush Check',
      channel: 'web' as const,
      timestamp: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    };
    // A workspace that does not exist breaks the foreign key of its row only.
    observations.blocked({ ...call, workspaceId: 'no-such-workspace' }, [{ path: '/a', reason: 'r' }], {});
    observations.blocked(call, [{ path: '/b', reason: 'r' }], { b: 1 });
    const counted = await violations('?event=Flush%20Check');
    expect(counted).toEqual([expect.objectContaining({ path: '/b', count: 1, blocked: 1 })]);
  });

  it('exposes the violating calls per outcome as a metric', async () => {
    const metric = async (outcome: string) => {
      const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('collection_tracking_plan_violating_calls_total{') &&
            l.includes(`outcome="${outcome}"`),
        );
      return Number(line?.split(' ')[1] ?? 0);
    };
    const [reported, blocked] = [await metric('reported'), await metric('blocked')];
    expect(reported).toBeGreaterThan(0);
    await send('group', {
      messageId: nextId('metric'),
      userId: 'u9',
      groupId: 'g',
      traits: { employees: 1.5 },
    });
    expect([await metric('reported'), await metric('blocked')]).toEqual([reported, blocked + 1]);
  });

  it('the dictionary lists each event per source with its property keys and types and its rule', async () => {
    await send('track', {
      messageId: nextId('dict'),
      userId: 'u6',
      event: 'Statement Downloaded',
      properties: { month: '2026-10', pages: 3 },
    });
    await flush();
    await send('track', {
      messageId: nextId('dict'),
      userId: 'u6',
      event: 'Statement Downloaded',
      properties: { pages: 2.5, format: { kind: 'pdf' } },
    });
    await send(
      'page',
      { messageId: nextId('dict'), userId: 'u6', name: 'Cards', properties: { path: '/cards' } },
      otherSource.auth,
    );
    await flush();

    const res = await admin('GET', '/v1/tracking-plan/dictionary');
    expect(res.statusCode).toBe(200);
    const events = res.json().events as Array<Record<string, any>>;
    const statement = events.find((e) => e.event === 'Statement Downloaded');
    expect(statement).toMatchObject({
      sourceId: h.keys.sourceId,
      type: 'track',
      count: 2,
      properties: {
        month: ['string'],
        pages: ['integer', 'number'],
        format: ['object'],
        'format.kind': ['string'],
      },
      rule: null,
    });
    expect(Date.parse(statement!.firstSeenAt)).toBeLessThanOrEqual(Date.parse(statement!.lastSeenAt));
    expect(events.find((e) => e.event === 'Cards')).toMatchObject({
      sourceId: otherSource.id,
      sourceName: 'other app',
      type: 'page',
      count: 1,
      properties: { name: ['string'], path: ['string'] },
    });
    // Covered by the workspace-wide identify rule; the Loan Applied rule covers its event.
    expect(events.find((e) => e.type === 'identify' && e.sourceId === h.keys.sourceId)).toMatchObject({
      rule: { mode: 'block', scope: 'workspace' },
      properties: { email: ['string'] },
    });
    expect(events.find((e) => e.event === 'Loan Applied')).toMatchObject({
      count: 3,
      rule: { mode: 'report' },
    });

    const forOther = await admin('GET', `/v1/tracking-plan/dictionary?sourceId=${otherSource.id}`);
    expect(new Set(forOther.json().events.map((e: { sourceId: string }) => e.sourceId))).toEqual(
      new Set([otherSource.id]),
    );
  });
});
