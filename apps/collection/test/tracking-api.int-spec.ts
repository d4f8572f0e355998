/**
 * The Segment HTTP tracking API of the collection service, in-process on the real local Postgres
 * and NATS: every call type, write key in the header or the body, batch partial acceptance,
 * size limits on decompressed bodies, gzip and text/plain bodies.
 */
import { gzipSync } from 'node:zlib';
import { hashKey } from '@cdp/service-kit';
import {
  acceptedPayloads,
  basicAuth,
  ingestBatchMessages,
  startCollection,
  storedCounts,
  waitUntil,
  type TrackingHarness,
} from './tracking-harness';

describe('tracking API', () => {
  let h: TrackingHarness;
  let auth: string;

  beforeAll(async () => {
    h = await startCollection('trackapi');
    auth = basicAuth(h.keys.writeKey);
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = { authorization: auth }) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    });
  const storedOnce = (ids: string[]) =>
    waitUntil(`${ids.length} stored calls`, async () => {
      const counts = await storedCounts(h.db, h.keys.workspaceId);
      return ids.every((id) => counts.get(id) === 1) ? counts : undefined;
    });

  it('accepts the six call types with their Segment fields', async () => {
    const calls = {
      identify: { messageId: 'shape-identify', userId: 'u-shape', traits: { email: 'shape@example.com' } },
      track: { messageId: 'shape-track', userId: 'u-shape', event: 'Loan Viewed', properties: { amount: 5 } },
      page: {
        messageId: 'shape-page',
        userId: 'u-shape',
        name: 'Loans',
        category: 'Products',
        properties: { path: '/loans' },
      },
      screen: {
        messageId: 'shape-screen',
        anonymousId: 42,
        name: 'Home',
        context: { device: { token: '  tok-1  ' } },
      },
      group: {
        messageId: 'shape-group',
        userId: 'u-shape',
        groupId: 'acme',
        traits: { name: 'Acme', email: 'office@acme.example' },
      },
      alias: { messageId: 'shape-alias', userId: 'u-shape', previousId: 'anon-9' },
    };
    for (const [type, body] of Object.entries(calls)) {
      const res = await post(`/v1/${type}`, body);
      expect({ type, status: res.statusCode, body: res.json() }).toEqual({
        type,
        status: 200,
        body: { success: true },
      });
    }
    await storedOnce(Object.values(calls).map((c) => c.messageId));
    const published = new Map((await acceptedPayloads(h.prefix)).map((p) => [p.messageId, p]));
    expect(published.get('shape-track')).toMatchObject({
      type: 'track',
      event: 'Loan Viewed',
      properties: { amount: 5 },
    });
    expect(published.get('shape-page')).toMatchObject({
      type: 'page',
      name: 'Loans',
      category: 'Products',
      properties: { name: 'Loans', category: 'Products', path: '/loans' },
    });
    expect(published.get('shape-screen')).toMatchObject({
      type: 'screen',
      anonymousId: '42',
      name: 'Home',
      context: { device: { token: 'tok-1' }, ip: '127.0.0.1' },
    });
    expect(published.get('shape-group')).toMatchObject({
      type: 'group',
      groupId: 'acme',
      properties: { name: 'Acme' },
    });
    expect(published.get('shape-group')?.traits).toBeUndefined();
    expect(published.get('shape-alias')).toMatchObject({
      type: 'alias',
      userId: 'u-shape',
      previousId: 'anon-9',
    });
    // The group's e-mail is not the person's.
    const identities = await h.db.identity.findMany({
      where: { workspaceId: h.keys.workspaceId, type: 'email' },
    });
    expect(identities.map((i) => i.value)).toEqual(['shape@example.com']);
  });

  it('refuses calls without their required fields, with the field path', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/track', { userId: 'u' }, '/event'],
      ['/v1/identify', { traits: {} }, '/userId'],
      ['/v1/alias', { userId: 'u' }, '/previousId'],
      ['/v1/alias', { userId: 'u', previousId: '' }, '/previousId'],
      ['/v1/group', { userId: 'u' }, '/groupId'],
      ['/v1/page', { userId: 'u', name: 7 }, '/name'],
      ['/v1/track', { userId: 'u', event: 'x', timestamp: '0000-01-01T00:00:00Z' }, '/timestamp'],
      ['/v1/track', { userId: 'u', event: 'x', messageId: 'a\r\nb' }, '/messageId'],
      ['/v1/track', { userId: 'u', event: 'x', properties: { bad: 'nul\u0000' } }, '/properties/bad'],
      ['/v1/track', { userId: 'u', event: 'x', context: { device: { token: 5 } } }, '/context/device/token'],
      ['/v1/track', [1, 2], '/'],
    ];
    for (const [url, body, path] of cases) {
      const res = await post(url, body);
      expect({ url, body, status: res.statusCode }).toEqual({ url, body, status: 400 });
      expect(res.json().issues.map((i: any) => i.path)).toContain(path);
    }
  });

  it('takes the write key from Basic auth, else from the body; 401 for missing, unknown or disabled keys', async () => {
    const inBody = await post(
      '/v1/track',
      { writeKey: h.keys.writeKey, userId: 'u-body', event: 'Body Key', messageId: 'key-in-body' },
      {},
    );
    expect(inBody.statusCode).toBe(200);
    const [stored] = await acceptedPayloads(h.prefix).then((all) =>
      all.filter((p) => p.messageId === 'key-in-body'),
    );
    expect(JSON.stringify(stored)).not.toContain(h.keys.writeKey);

    await h.db.source.create({
      data: {
        workspaceId: h.keys.workspaceId,
        name: 'off',
        kind: 'server',
        writeKeyHash: hashKey('wk_disabled'),
        writeKeyPrefix: 'wk_disab',
        enabled: false,
      },
    });
    const refused = [
      await post('/v1/track', { userId: 'u', event: 'x' }, {}),
      await post('/v1/track', { writeKey: 'wk_unknown', userId: 'u', event: 'x' }, {}),
      await post('/v1/track', { userId: 'u', event: 'x' }, { authorization: basicAuth('wk_unknown') }),
      await post(
        '/v1/batch',
        { writeKey: 'wk_disabled', batch: [{ type: 'track', userId: 'u', event: 'x' }] },
        {},
      ),
      // A bad Authorization header is not rescued by a good key in the body.
      await post(
        '/v1/track',
        { writeKey: h.keys.writeKey, userId: 'u', event: 'x' },
        { authorization: 'Bearer nope' },
      ),
    ];
    expect(refused.map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401]);
  });

  it('stores the good calls of a batch and lists the bad ones by index', async () => {
    const res = await post('/v1/batch', {
      context: { library: { name: 'batch-lib', version: '1.0.0' }, channel: 'branch' },
      sentAt: '2026-01-01T00:00:10.000Z',
      batch: [
        {
          type: 'track',
          messageId: 'batch-ok-1',
          userId: 'u-b',
          event: 'A',
          timestamp: '2026-01-01T00:00:00.000Z',
        },
        { type: 'track', messageId: 'batch-bad-1', userId: 'u-b' },
        {
          type: 'identify',
          messageId: 'batch-ok-2',
          userId: 'u-b',
          traits: { tier: 'gold' },
          context: { channel: 'app' },
        },
        { type: 'launch', messageId: 'batch-bad-2', userId: 'u-b' },
        {
          type: 'track',
          messageId: 'batch-bad-3',
          userId: 'u-b',
          event: 'Big',
          properties: { blob: 'x'.repeat(40_000) },
        },
        'not a call',
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.success).toBe(true);
    expect(body.rejected.map((r: any) => [r.index, r.issues[0].path])).toEqual([
      [1, '/event'],
      [3, '/type'],
      [4, '/'],
      [5, '/'],
    ]);
    expect(body.rejected[2].issues[0].reason).toMatch(/over the limit of 32768/);
    await storedOnce(['batch-ok-1', 'batch-ok-2']);
    const counts = await storedCounts(h.db, h.keys.workspaceId);
    expect(['batch-bad-1', 'batch-bad-2', 'batch-bad-3'].map((id) => counts.get(id))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);

    const published = new Map((await acceptedPayloads(h.prefix)).map((p) => [p.messageId, p]));
    const first = published.get('batch-ok-1')!;
    // Batch-level context and sentAt apply to every call; the call's own context wins.
    expect(first.context.library).toEqual({ name: 'batch-lib', version: '1.0.0' });
    expect(first.channel).toBe('branch');
    expect(first.sentAt).toBe('2026-01-01T00:00:10.000Z');
    // Clock skew: the call happened 10 s before it was sent, by the device clock.
    expect(Date.parse(first.receivedAt) - Date.parse(first.timestamp)).toBe(10_000);
    expect(published.get('batch-ok-2')!.channel).toBe('app');
  });

  it('makes a batch durable as one stream message per slice; a resent batch is dropped by JetStream', async () => {
    const track = (i: number, blob: number) => ({
      type: 'track',
      messageId: `sliced-${i}`,
      userId: `u-${i % 7}`,
      event: 'Sliced',
      properties: { blob: 'x'.repeat(blob) },
    });
    // 20 calls of ~20 KB (under the 500 KB batch limit): more than one 256 KB message can carry.
    const big = { batch: Array.from({ length: 20 }, (_, i) => track(i, 20_000)) };
    const small = { batch: Array.from({ length: 3 }, (_, i) => track(100 + i, 10)) };
    const before = await ingestBatchMessages(h.prefix);
    for (const body of [big, small, small]) expect((await post('/v1/batch', body)).statusCode).toBe(200);

    const messages = (await ingestBatchMessages(h.prefix)).slice(before.length);
    expect(messages.length).toBe(3); // big: 2 slices, small: 1 (its resend dropped)
    expect(messages.every((m) => m.bytes <= 300 * 1024)).toBe(true);
    const carried = messages.flatMap((m) => m.messageIds);
    expect(carried.sort()).toEqual([...big.batch, ...small.batch].map((c) => c.messageId).sort());
    await storedOnce(carried);
  });

  it('answers 400 with every index when no call of a batch is valid; /v1/import is batch', async () => {
    const res = await post('/v1/import', { batch: [{ type: 'track', userId: 'u' }, { type: 'page' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().rejected.map((r: any) => r.index)).toEqual([0, 1]);
    expect(res.json().issues.map((i: any) => i.path)).toEqual(['/batch/0/event', '/batch/1/userId']);
    expect((await post('/v1/batch', { batch: [] })).statusCode).toBe(400);
    const ok = await post('/v1/import', {
      batch: [{ type: 'page', messageId: 'import-1', anonymousId: 'a-1', name: 'Home' }],
    });
    expect(ok.json()).toEqual({ success: true });
    await storedOnce(['import-1']);
  });

  it('parses gzip and text/plain bodies, and checks limits on the decompressed size', async () => {
    const call = { userId: 'u-gz', event: 'Zipped', messageId: 'gzip-1' };
    const gz = await post('/v1/track', gzipSync(JSON.stringify(call)), {
      authorization: auth,
      'content-encoding': 'gzip',
      'content-type': 'text/plain',
    });
    expect(gz.statusCode).toBe(200);
    const plain = await post('/v1/track', JSON.stringify({ ...call, messageId: 'text-1' }), {
      authorization: auth,
      'content-type': 'text/plain;charset=UTF-8',
    });
    expect(plain.statusCode).toBe(200);
    await storedOnce(['gzip-1', 'text-1']);

    // 40 KB in one call; a 5 MB gzip bomb (a few KB on the wire) to the batch endpoint.
    const big = await post('/v1/track', {
      userId: 'u',
      event: 'x',
      properties: { blob: 'x'.repeat(40_000) },
    });
    expect(big.statusCode).toBe(413);
    const bomb = gzipSync(
      Buffer.from(`{"batch":[{"type":"track","userId":"u","event":"${'y'.repeat(5_000_000)}"}]}`),
    );
    expect(bomb.length).toBeLessThan(50_000);
    const bombed = await post('/v1/batch', bomb, { authorization: auth, 'content-encoding': 'gzip' });
    expect(bombed.statusCode).toBe(413);
    const tooBig = await post('/v1/batch', {
      batch: Array.from({ length: 20 }, () => ({
        type: 'track',
        userId: 'u',
        event: 'x',
        properties: { b: 'z'.repeat(30_000) },
      })),
    });
    expect(tooBig.statusCode).toBe(413);

    const garbage = await post('/v1/track', Buffer.from('not gzip at all'), {
      authorization: auth,
      'content-encoding': 'gzip',
    });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().message).toMatch(/not valid gzip/);
    const malformed = await post('/v1/track', '{"userId": "u", "event": ');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().message).toMatch(/^Malformed JSON/);
    const brotli = await post('/v1/track', '{}', { authorization: auth, 'content-encoding': 'br' });
    expect(brotli.statusCode).toBe(415);
  });
});
