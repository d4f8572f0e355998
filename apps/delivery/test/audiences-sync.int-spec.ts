/**
 * Segment membership -> ad audience, end to end inside the delivery app on a real NATS prefix:
 * cdp.segment.entered / exited are consumed, the customer is looked up through the
 * customer-lookup RPC (answered here by a raw NATS responder, as collection would), and a local
 * ad platform endpoint checks the customer-match request and its SHA-256 hashes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { hashedMember, normalizeEmail, normalizePhone } from '../src/audiences/customer-match.adapter';
import { secretKeySpec, startDelivery, type DeliveryHarness } from './support/delivery-app';
import { assert, cleanUpRun, NATS_URL, testPrefix, waitFor, LocalServer } from '@cdp/testing';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const customers: Record<string, { email?: string; phone?: string; restricted?: boolean }> = {
  'cust-kim': { email: '  Kim.Min@Example.COM ', phone: '+82 10-1234-5678' },
  'cust-lee': { email: 'lee@example.com' },
  'cust-park': { phone: '010-9999-0000' }, // not E.164 and no e-mail: nothing to sync
  'cust-choi': { email: 'choi@example.com', phone: '+821055556666' },
  'cust-jung': { email: 'jung@example.com' },
  // Suppressed without erasure (restriction of processing): never shared.
  'cust-held': { email: 'held@example.com', phone: '+821077778888', restricted: true },
};

describe('normalisation', () => {
  it('normalises e-mails and phones before hashing', () => {
    expect(normalizeEmail('  Kim.Min@Example.COM ')).toBe('kim.min@example.com');
    expect(normalizeEmail('John.Smith+promo@Gmail.com')).toBe('johnsmith@gmail.com');
    expect(normalizeEmail('not an email')).toBeUndefined();
    expect(normalizePhone('+82 10-1234-5678')).toBe('+821012345678');
    expect(normalizePhone('0082 10 1234 5678')).toBe('+821012345678');
    expect(normalizePhone('010-1234-5678')).toBeUndefined();
    expect(hashedMember({ email: 'a@b.co' })).toEqual([sha256('a@b.co'), '']);
    expect(hashedMember({ phone: '12345' })).toBeUndefined();
  });
});

describe('ad audience sync from segment membership', () => {
  const prefix = testPrefix('dlvaud');
  const ACCESS_TOKEN = 'ads-token-93a1';
  const received: { method: string; rows: string[][] }[] = [];
  let failNext = 0;
  const adPlatform = new LocalServer((req) => {
    assert(req.path === '/v19.0/aud-123/users', `unexpected path ${req.path}`);
    assert(req.method === 'POST' || req.method === 'DELETE', `unexpected method ${req.method}`);
    assert(req.headers.authorization === `Bearer ${ACCESS_TOKEN}`, 'bad access token');
    const { payload } = JSON.parse(req.body.toString('utf8')) as {
      payload?: { schema?: unknown; data?: unknown };
    };
    assert(
      JSON.stringify(payload?.schema) === '["EMAIL_SHA256","PHONE_SHA256"]',
      'schema must be EMAIL_SHA256, PHONE_SHA256',
    );
    const rows = payload?.data;
    assert(Array.isArray(rows) && rows.length > 0, 'data must be a non-empty array');
    for (const row of rows as unknown[]) {
      assert(Array.isArray(row) && row.length === 2, 'each row has one value per schema column');
      for (const value of row as unknown[])
        assert(
          value === '' || (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)),
          `not a SHA-256 hex: ${String(value)}`,
        );
      assert(
        row.some((v) => v !== ''),
        'a row needs an e-mail or a phone',
      );
    }
    if (failNext > 0) {
      failNext--;
      return { status: 503, body: 'try later' };
    }
    received.push({ method: req.method, rows: rows as string[][] });
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ num_received: rows.length }),
    };
  });
  let delivery: DeliveryHarness;
  let responder: NatsConnection;
  let segmentId: string;
  const lookups: string[] = [];

  const publish = (
    subject: typeof Subjects.segmentEntered | typeof Subjects.segmentExited,
    customerId: string,
  ) =>
    delivery.app.get(JetStreamPublisher).publish(
      subject,
      {
        workspaceId: delivery.workspaceId,
        segmentId,
        segmentName: 'VIP',
        customerId,
        at: new Date().toISOString(),
      },
      { msgId: `${subject.name}:${customerId}:${randomUUID()}` },
    );

  beforeAll(async () => {
    await adPlatform.start();
    delivery = await startDelivery('dlvaud', {
      NATS_PREFIX: prefix,
      DELIVERY_SECRET_KEYS: secretKeySpec('k1'),
      AUDIENCE_BATCH_WAIT_MS: '400',
    });
    segmentId = (
      await delivery.prisma.segment.create({
        data: {
          workspaceId: delivery.workspaceId,
          name: 'VIP',
          definition: { type: 'event', name: 'purchase' },
        },
      })
    ).id;
    // Stands in for collection's customer-lookup responder (wire format: packages/messaging README).
    responder = await connect({ servers: NATS_URL });
    responder.subscribe(`${prefix}.cdp-rpc.customer.lookup.*`, {
      callback: (_err, msg) => {
        const request = msg.json<{ workspaceId: string; customerId: string }>();
        lookups.push(request.customerId);
        const contact = customers[request.customerId];
        msg.respond(
          JSON.stringify(
            contact
              ? {
                  found: true,
                  customer: {
                    id: request.customerId,
                    customerCode: `C-${request.customerId}`,
                    lifecycleStage: 'prospect',
                    ...contact,
                    traits: {},
                  },
                }
              : { found: false },
          ),
        );
      },
    });
    await responder.flush();
  });

  afterAll(async () => {
    await responder?.close();
    await delivery?.close();
    await adPlatform.close();
    await cleanUpRun(prefix);
  });

  const call = (payload: unknown) =>
    delivery.app.inject({
      method: 'POST',
      url: '/v1/audiences',
      headers: { authorization: `Bearer ${delivery.apiKey}` },
      payload: payload as object,
    });

  it('creates an audience for a segment and keeps its token encrypted', async () => {
    const bad = await call({
      segmentId: 'nope',
      provider: 'customer_match',
      externalAudienceId: 'aud-123',
      settings: { baseUrl: 'ftp://x' },
      secrets: {},
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['/settings/baseUrl', '/secrets/accessToken']),
    );
    const unknownSegment = await call({
      segmentId: randomUUID(),
      provider: 'customer_match',
      externalAudienceId: 'aud-123',
      settings: { baseUrl: `${adPlatform.url}/v19.0` },
      secrets: { accessToken: ACCESS_TOKEN },
    });
    expect(unknownSegment.statusCode).toBe(400);
    expect(unknownSegment.json().issues[0].path).toBe('/segmentId');

    const created = await call({
      segmentId,
      provider: 'customer_match',
      externalAudienceId: 'aud-123',
      settings: { baseUrl: `${adPlatform.url}/v19.0` },
      secrets: { accessToken: ACCESS_TOKEN },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(ACCESS_TOKEN);
    const [row] = await delivery.prisma.$queryRaw<
      { whole: string }[]
    >`SELECT row_to_json(a)::text AS whole FROM ad_audiences a`;
    expect(row!.whole).not.toContain(ACCESS_TOKEN);
  });

  it('adds a customer who entered the segment as hashed e-mail and phone', async () => {
    await publish(Subjects.segmentEntered, 'cust-kim');
    await waitFor('the audience add', async () => received.length >= 1, 15_000);
    expect(adPlatform.failures).toEqual([]);
    expect(lookups).toContain('cust-kim');
    expect(received[0]).toEqual({
      method: 'POST',
      rows: [[sha256('kim.min@example.com'), sha256('+821012345678')]],
    });
    // What was sent is recorded, to remove it again later.
    expect(
      await delivery.prisma.adAudienceMember.findMany({
        where: { customerId: 'cust-kim' },
        select: { emailSha256: true, phoneSha256: true },
      }),
    ).toEqual([{ emailSha256: sha256('kim.min@example.com'), phoneSha256: sha256('+821012345678') }]);
  });

  it('sends changes arriving together in one batch and skips customers with nothing to match or restricted', async () => {
    received.length = 0;
    await Promise.all(
      ['cust-lee', 'cust-park', 'cust-held', 'cust-choi'].map((c) => publish(Subjects.segmentEntered, c)),
    );
    await waitFor(
      'the batched add',
      async () => received.length >= 1 && lookups.includes('cust-park') && lookups.includes('cust-held'),
      15_000,
    );
    await new Promise((r) => setTimeout(r, 600)); // a second batch would have been sent by now
    expect(received).toHaveLength(1);
    expect(received[0]!.rows).toHaveLength(2);
    expect(received[0]!.rows).toEqual(
      expect.arrayContaining([
        [sha256('lee@example.com'), ''],
        [sha256('choi@example.com'), sha256('+821055556666')],
      ]),
    );
    expect(await delivery.prisma.adAudienceMember.count({ where: { customerId: 'cust-held' } })).toBe(0);
  });

  it('removes a customer who left the segment, by the hashes recorded when they were added', async () => {
    received.length = 0;
    const lookedUp = lookups.filter((c) => c === 'cust-lee').length;
    await publish(Subjects.segmentExited, 'cust-lee');
    await waitFor('the audience removal', async () => received.length >= 1, 15_000);
    expect(received[0]).toEqual({ method: 'DELETE', rows: [[sha256('lee@example.com'), '']] });
    expect(lookups.filter((c) => c === 'cust-lee')).toHaveLength(lookedUp);
    await waitFor(
      'the record gone',
      async () => (await delivery.prisma.adAudienceMember.count({ where: { customerId: 'cust-lee' } })) === 0,
    );
  });

  it('removes an erased customer from the audiences, though their contact data is gone', async () => {
    received.length = 0;
    delete customers['cust-choi']; // erased: collection no longer finds them
    await delivery.app.get(JetStreamPublisher).publish(
      Subjects.customerErased,
      {
        workspaceId: delivery.workspaceId,
        customerId: 'cust-choi',
        customerCode: 'C-cust-choi',
        erasedIds: ['cust-choi'],
        erasedAt: new Date().toISOString(),
      },
      { msgId: `customer.erased:${randomUUID()}` },
    );
    await waitFor('the removal of the erased customer', async () => received.length >= 1, 15_000);
    expect(received[0]).toEqual({
      method: 'DELETE',
      rows: [[sha256('choi@example.com'), sha256('+821055556666')]],
    });
    await waitFor(
      'the record gone',
      async () =>
        (await delivery.prisma.adAudienceMember.count({ where: { customerId: 'cust-choi' } })) === 0,
    );
    // Still a member for the other customers added.
    expect(await delivery.prisma.adAudienceMember.count({ where: { customerId: 'cust-kim' } })).toBe(1);
  });

  it('removes a customer whose processing became restricted, and not on a lifted restriction', async () => {
    received.length = 0;
    const restriction = (restricted: boolean) =>
      delivery.app.get(JetStreamPublisher).publish(
        Subjects.customerRestricted,
        {
          workspaceId: delivery.workspaceId,
          customerId: 'cust-kim',
          customerCode: 'C-cust-kim',
          restricted,
          changedAt: new Date().toISOString(),
        },
        { msgId: `customer.restricted:${randomUUID()}` },
      );
    await restriction(false);
    await new Promise((r) => setTimeout(r, 600)); // a removal would have been sent by now
    expect(received).toEqual([]);
    await restriction(true);
    await waitFor('the removal of the restricted customer', async () => received.length >= 1, 15_000);
    expect(received[0]).toEqual({
      method: 'DELETE',
      rows: [[sha256('kim.min@example.com'), sha256('+821012345678')]],
    });
    await waitFor(
      'the record gone',
      async () => (await delivery.prisma.adAudienceMember.count({ where: { customerId: 'cust-kim' } })) === 0,
    );
  });

  it('retries a batch the platform did not accept, so nothing is lost', async () => {
    received.length = 0;
    failNext = 1;
    await publish(Subjects.segmentEntered, 'cust-jung');
    await waitFor('the retried add', async () => received.length >= 1, 20_000);
    expect(failNext).toBe(0);
    expect(adPlatform.requests.filter((r) => r.body.includes(sha256('jung@example.com')))).toHaveLength(2);
    expect(received[0]).toEqual({ method: 'POST', rows: [[sha256('jung@example.com'), '']] });
  });
});
