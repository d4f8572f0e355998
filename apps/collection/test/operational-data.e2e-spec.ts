/**
 * Contracted-stage data from operational systems, lifecycle rules and push addresses, against
 * collection running as its own process on the real Postgres and NATS.
 */
import { waitFor } from '@cdp/testing';
import { RunningCollection } from './collection-process';

describe('operational data, lifecycle and devices', () => {
  let collection: RunningCollection;

  beforeAll(async () => {
    collection = await RunningCollection.start('ops');
  });

  afterAll(async () => {
    expect(await collection?.stop()).toBe(0);
  });

  const api = (method: string, path: string, body?: unknown) => collection.api(method, path, body);
  const tracking = (path: string, body: unknown) => collection.send(path, body);
  const customerOf = (userId: string) =>
    waitFor(`customer ${userId}`, async () => {
      const res = await api('GET', `/v1/customers?identifierType=user_id&identifierValue=${userId}`);
      return res.status === 200 ? res.body : undefined;
    });

  it('stores contracts from an operational system, records them in the history and moves the customer to contracted', async () => {
    expect(
      (await tracking('/v1/identify', { userId: 'c-100', traits: { email: 'kim@example.com' } })).status,
    ).toBe(200);
    const customer = await customerOf('c-100');
    expect(customer.lifecycleStage).toBe('potential');

    const contract = {
      customer: { identifier: { type: 'user_id', value: 'c-100' } },
      sourceSystem: 'core-banking',
      externalRef: 'ACC-0001',
      productCode: 'SAV-12',
      productName: '12-month savings',
      productType: 'deposit',
      amount: '1000000.00',
      currency: 'KRW',
      openedAt: '2026-11-01T09:00:00Z',
    };
    const batch = await api('POST', '/v1/operational/contracts', {
      records: [
        contract,
        {
          ...contract,
          externalRef: 'ACC-0002',
          customer: { identifier: { type: 'user_id', value: 'nobody' } },
        },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toEqual({
      accepted: 1,
      rejected: [
        {
          index: 1,
          issues: [{ path: '/records/1/customer', reason: expect.stringContaining('no customer') }],
        },
      ],
    });
    // The same record again is an update, not a second contract or a second history entry.
    expect((await api('POST', '/v1/operational/contracts', { records: [contract] })).body.accepted).toBe(1);

    await waitFor(
      'lifecycle contracted',
      async () => (await api('GET', `/v1/customers/${customer.id}`)).body.lifecycleStage === 'contracted',
    );
    const contracts = await api('GET', `/v1/customers/${customer.id}/contracts`);
    expect(contracts.body).toHaveLength(1);
    expect(contracts.body[0]).toMatchObject({
      externalRef: 'ACC-0001',
      productType: 'deposit',
      status: 'active',
      amount: '1000000',
    });
    const history = await api('GET', `/v1/customers/${customer.id}/events`);
    expect(history.body.items.filter((e: any) => e.name === 'Contract Opened')).toEqual([
      expect.objectContaining({ channel: 'operational', journeyStage: 'purchase' }),
    ]);

    const transactions = await api('POST', '/v1/operational/transactions', {
      records: [
        {
          customer: { id: customer.id },
          sourceSystem: 'core-banking',
          externalRef: 'TX-1',
          contractRef: 'ACC-0001',
          kind: 'deposit',
          amount: '50000',
          currency: 'KRW',
          occurredAt: '2026-11-02T10:00:00Z',
          channel: 'app',
        },
      ],
    });
    expect(transactions.body).toEqual({ accepted: 1, rejected: [] });
    const listed = await api('GET', `/v1/customers/${customer.id}/transactions`);
    expect(listed.body[0]).toMatchObject({
      kind: 'deposit',
      contractId: contracts.body[0].id,
      channel: 'app',
    });

    const consult = await api('POST', '/v1/operational/consultations', {
      records: [
        {
          customer: { id: customer.id },
          sourceSystem: 'crm',
          externalRef: 'CS-9',
          channel: 'call_centre',
          topic: 'Loan refinancing',
          occurredAt: '2026-11-03T11:00:00Z',
        },
      ],
    });
    expect(consult.body.accepted).toBe(1);
    await waitFor('consultation in history', async () =>
      (await api('GET', `/v1/customers/${customer.id}/events`)).body.items.some(
        (e: any) => e.name === 'Consultation Held' && e.channel === 'call_centre',
      ),
    );
  });

  it('rejects bad operational records with field paths', async () => {
    const bad = await api('POST', '/v1/operational/contracts', {
      records: [
        {
          customer: {},
          sourceSystem: 'x',
          externalRef: 'y',
          productCode: 'p',
          productName: 'n',
          productType: 'boat',
          openedAt: 'yesterday',
        },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: any) => i.path)).toEqual(
      expect.arrayContaining(['/records/0/productType', '/records/0/openedAt']),
    );
    expect((await api('POST', '/v1/operational/transactions', { records: [] })).status).toBe(400);
  });

  it('moves customers by configurable lifecycle rules', async () => {
    expect((await api('PUT', '/v1/lifecycle/rules', { rules: [{ toStage: 'customer' }] })).status).toBe(400);
    const rules = { rules: [{ toStage: 'prospect', eventNames: ['Loan Calculator Used'] }] };
    expect((await api('PUT', '/v1/lifecycle/rules', rules)).body).toEqual(rules);
    expect((await api('GET', '/v1/lifecycle/rules')).body).toEqual(rules);

    // Under the new rules a journey stage alone no longer moves anyone; the named event does.
    await tracking('/v1/track', {
      userId: 'p-1',
      event: 'Page Browsed',
      context: { journeyStage: 'explore_compare' },
    });
    await tracking('/v1/track', { userId: 'p-2', event: 'Loan Calculator Used' });
    const p2 = await customerOf('p-2');
    await waitFor(
      'p-2 prospect',
      async () => (await api('GET', `/v1/customers/${p2.id}`)).body.lifecycleStage === 'prospect',
    );
    const p1 = await customerOf('p-1');
    expect((await api('GET', `/v1/customers/${p1.id}`)).body.lifecycleStage).toBe('potential');
  });

  it('registers device tokens and web-push subscriptions', async () => {
    await tracking('/v1/identify', { userId: 'd-1' });
    await tracking('/v1/identify', { userId: 'd-2' });
    const [d1, d2] = [await customerOf('d-1'), await customerOf('d-2')];
    const token = { platform: 'android', provider: 'fcm', token: 'fcm-token-0123456789' };
    expect((await api('POST', `/v1/customers/${d1.id}/device-tokens`, token)).status).toBe(201);
    // A device that changes hands follows its last owner.
    expect((await api('POST', `/v1/customers/${d2.id}/device-tokens`, token)).status).toBe(201);
    expect((await api('GET', `/v1/customers/${d1.id}/devices`)).body.deviceTokens).toHaveLength(0);
    const d2Devices = (await api('GET', `/v1/customers/${d2.id}/devices`)).body;
    expect(d2Devices.deviceTokens).toEqual([
      expect.objectContaining({ token: token.token, platform: 'android' }),
    ]);

    const subscription = {
      endpoint: 'https://push.example.com/send/abc',
      keys: { p256dh: 'B'.repeat(87), auth: 'a'.repeat(22) },
    };
    expect((await api('POST', `/v1/customers/${d2.id}/web-push-subscriptions`, subscription)).status).toBe(
      201,
    );
    const insecure = await api('POST', `/v1/customers/${d2.id}/web-push-subscriptions`, {
      ...subscription,
      endpoint: 'http://push.example.com/x',
    });
    expect(insecure.status).toBe(400);
    expect(insecure.body.issues[0].path).toBe('/endpoint');
    expect(
      (await api('DELETE', `/v1/customers/${d2.id}/device-tokens/${d2Devices.deviceTokens[0].id}`)).status,
    ).toBe(204);
    expect((await api('GET', `/v1/customers/${d2.id}/devices`)).body).toMatchObject({
      deviceTokens: [],
      webPushSubscriptions: [expect.any(Object)],
    });
    expect((await api('POST', `/v1/customers/nope/device-tokens`, token)).status).toBe(404);
  });
});
