/**
 * Property test of the tracking API with a few thousand generated requests (in-process, real
 * Postgres and NATS): malformed JSON, wrong types, oversize bodies, bad or missing auth, absurd
 * timestamps, megabyte strings, deep nesting, emoji and lone surrogates, gzip garbage.
 * Never a 5xx; every call answered 2xx is stored exactly once, nothing refused is stored.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { basicAuth, startCollection, waitUntil, type TrackingHarness } from './tracking-harness';

const TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { down: value };
  return value;
}

const weird = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('\ud800', 'x\udfff', 'nul\u0000', '😀🎉', '\u202eevil', '', ' '),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: weird },
);
const id = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('fz-u1', 'fz-u2', 'fz-u3', 'ユーザー', '😀') },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), weird) },
);
const timestamp = fc.oneof(
  fc
    .date({ min: new Date('1950-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '+099999-01-01T00:00:00Z',
    '99999-01-01T00:00:00Z',
    'NaN',
    '1899-12-31T23:59:59Z',
    '1900-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '2026-02-30T00:00:00Z',
    '2026-01-01T00:00:00+25:00',
  ),
  weird,
);
const bag = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1000 }).map((n) => ({ deep: nested(n) })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 40_000 }).map((n) => ({ blob: 'x'.repeat(n) })) },
  { weight: 1, arbitrary: weird },
);
const context = fc.oneof(
  fc.record(
    {
      ip: text,
      userAgent: text,
      channel: fc.constantFrom('web', 'app', 'branch', 'moon'),
      journeyStage: fc.constantFrom('purchase', 'nope'),
      library: fc.oneof(fc.record({ name: text, version: text }), weird),
      device: fc.oneof(fc.record({ token: text }), weird),
      traits: fc.oneof(
        fc.record({ email: fc.oneof(fc.emailAddress(), text, fc.constant(`${'a'.repeat(300)}@x.io`)) }),
        weird,
      ),
    },
    { requiredKeys: [] },
  ),
  weird,
);
const wildCall = fc.record(
  {
    type: fc.constantFrom(...TYPES, 'launch'),
    withMessageId: fc.boolean(),
    userId: id,
    anonymousId: id,
    previousId: id,
    groupId: id,
    event: text,
    name: text,
    category: text,
    properties: bag,
    traits: bag,
    context,
    timestamp,
    sentAt: timestamp,
    originalTimestamp: timestamp,
  },
  { requiredKeys: ['type', 'withMessageId'] },
);
/** Calls a real SDK could send, so that plenty are accepted and the storage side is exercised. */
const goodCall = fc.record(
  {
    type: fc.constantFrom(...TYPES),
    withMessageId: fc.constant(true),
    userId: fc.constantFrom('fz-u1', 'fz-u2', 'fz-u3', 'ユーザー😀'),
    previousId: fc.constantFrom('fz-anon-1', 'fz-anon-2'),
    groupId: fc.constantFrom('fz-g1', 'fz-g2'),
    event: fc.string({ minLength: 1, maxLength: 20 }),
    name: fc.string({ maxLength: 20 }),
    properties: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      },
      // One nasty value in an otherwise fine call.
      { weight: 1, arbitrary: fc.record({ v: fc.string({ unit: 'binary', maxLength: 6 }) }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom({ v: 'nul\u0000' }, { v: 'x\ud800' }, { 'k\udc00': 1 }, { v: '😀\u0000' }),
      },
      { weight: 1, arbitrary: fc.integer({ min: 40, max: 1000 }).map((n) => ({ deep: nested(n) })) },
    ),
    traits: fc.record(
      { email: fc.emailAddress(), tier: fc.constantFrom('gold', '💎') },
      { requiredKeys: [] },
    ),
    context: fc.record(
      { channel: fc.constantFrom('web', 'app'), device: fc.record({ token: fc.string() }) },
      { requiredKeys: [] },
    ),
    timestamp: fc
      .date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
  },
  { requiredKeys: ['type', 'withMessageId', 'userId', 'previousId', 'groupId', 'event'] },
);
const call = fc.oneof({ weight: 3, arbitrary: goodCall }, { weight: 2, arbitrary: wildCall });
type GeneratedCall = { type: string; withMessageId: boolean } & Record<string, unknown>;

const request = fc.record({
  shape: fc.oneof(
    { weight: 5, arbitrary: call.map((c) => ({ kind: 'single' as const, calls: [c] })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.array(call, { minLength: 0, maxLength: 8 }),
          fc.option(context, { nil: undefined }),
          fc.option(timestamp, { nil: undefined }),
        )
        .map(([calls, ctx, sentAt]) => ({ kind: 'batch' as const, calls, context: ctx, sentAt })),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => ({ kind: 'raw' as const, raw: s })),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 80 })
        .map((b) => ({ kind: 'gzip-garbage' as const, raw: Buffer.from(b) })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'megabyte' as const }) },
  ),
  url: fc.constantFrom(
    'matching',
    'matching',
    'matching',
    'matching',
    '/v1/batch',
    '/v1/track',
    '/v1/import',
    '/v1/page',
  ),
  auth: fc.constantFrom('basic', 'basic', 'basic', 'basic', 'body', 'body', 'none', 'unknown', 'garbage'),
  gzip: fc.boolean(),
  truncate: fc.integer({ min: 0, max: 20 }),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
  sendTwice: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

describe('tracking API under generated requests', () => {
  let h: TrackingHarness;
  beforeAll(async () => {
    h = await startCollection('fuzz');
  });
  afterAll(async () => {
    await h?.close();
  });

  // A few thousand requests and the storage of what they carried take longer than one int test.
  it('never answers 5xx and stores exactly what it acknowledged', async () => {
    let nextId = 0;
    const acknowledged = new Set<string>();
    const refused = new Set<string>();
    let acknowledgedWithoutId = 0;
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const ids: (string | undefined)[] = [];
        const toBody = (c: GeneratedCall) => {
          const { withMessageId, ...fields } = c;
          const messageId = withMessageId ? `fz-${nextId++}` : undefined;
          ids.push(messageId);
          return messageId ? { ...fields, messageId } : fields;
        };
        let body: unknown;
        let url: string = r.url;
        if (r.shape.kind === 'single') {
          body = toBody(r.shape.calls[0]!);
          if (url === 'matching') url = `/v1/${r.shape.calls[0]!.type}`;
        } else if (r.shape.kind === 'batch') {
          body = { batch: r.shape.calls.map(toBody), context: r.shape.context, sentAt: r.shape.sentAt };
          if (url === 'matching') url = '/v1/batch';
        } else if (r.shape.kind === 'megabyte') {
          body = { batch: [{ type: 'track', userId: 'fz-u1', event: 'x'.repeat(1_000_000) }] };
        }
        if (url === 'matching') url = '/v1/track';
        if (r.auth === 'body' && body && typeof body === 'object')
          body = { ...body, writeKey: h.keys.writeKey };
        let payload: Buffer =
          r.shape.kind === 'raw' || r.shape.kind === 'gzip-garbage'
            ? Buffer.from(r.shape.raw)
            : Buffer.from(JSON.stringify(body));
        // Cut a few requests short: malformed JSON.
        if (r.truncate === 1) payload = payload.subarray(0, Math.floor(payload.length / 2));
        const compress = r.gzip && r.shape.kind !== 'gzip-garbage';
        if (compress) payload = gzipSync(payload);
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (compress || r.shape.kind === 'gzip-garbage') headers['content-encoding'] = 'gzip';
        if (r.auth === 'basic') headers.authorization = basicAuth(h.keys.writeKey);
        if (r.auth === 'unknown') headers.authorization = basicAuth('wk_not_a_key');
        if (r.auth === 'garbage') headers.authorization = 'Basic ###';

        for (let attempt = 0; attempt < (r.sendTwice ? 2 : 1); attempt++) {
          const res = await h.app.inject({ method: 'POST', url, headers, payload });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500)
            throw new Error(`${res.statusCode} for ${url}: ${res.body.slice(0, 500)}`);
          const answer = res.statusCode === 200 ? res.json() : undefined;
          const rejectedIndexes = new Set<number>(
            (answer?.rejected ?? []).map((x: { index: number }) => x.index),
          );
          ids.forEach((messageId, index) => {
            const ok = res.statusCode === 200 && !rejectedIndexes.has(index);
            if (ok && messageId) acknowledged.add(messageId);
            else if (ok) acknowledgedWithoutId++;
            else if (messageId) refused.add(messageId);
          });
        }
      }),
      { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );

    // Nothing answered 200 was half-stored: every acknowledged call ends up once, nothing else.
    const expected = acknowledged.size + acknowledgedWithoutId;
    const stored = await waitUntil(
      `${expected} stored calls`,
      async () => {
        const n = await h.db.event.count({ where: { workspaceId: h.keys.workspaceId } });
        return n >= expected ? n : undefined;
      },
      20_000,
    ).catch(() => -1);
    await new Promise((r) => setTimeout(r, 300));
    const rows = await h.db.event.groupBy({
      by: ['messageId'],
      where: { workspaceId: h.keys.workspaceId },
      _count: { _all: true },
    });
    const counts = new Map(rows.map((x) => [x.messageId, x._count._all]));
    expect([...acknowledged].filter((mid) => counts.get(mid) !== 1).slice(0, 10)).toEqual([]);
    expect([...refused].filter((mid) => !acknowledged.has(mid) && counts.has(mid))).toEqual([]);
    expect(await h.db.event.count({ where: { workspaceId: h.keys.workspaceId } })).toBe(expected);
    expect(stored).toBe(expected);
    // The run exercised both sides.
    expect(acknowledged.size).toBeGreaterThan(50);
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 401, 413]));

    const after = await h.app.inject({
      method: 'POST',
      url: '/v1/track',
      headers: { authorization: basicAuth(h.keys.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ userId: 'fz-after', event: 'Still Fine', messageId: 'fz-after' }),
    });
    expect(after.json()).toEqual({ success: true });
    await waitUntil(
      'the call after the run',
      async () => (await h.db.event.count({ where: { messageId: 'fz-after' } })) === 1,
    );
  }, 120_000);
});
