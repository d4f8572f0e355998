// The customer look-up other services ask (cdp-rpc.customer.lookup) on the real Postgres and NATS:
// with the address a sender needs on each channel, including the customer's push devices: their
// registration tokens and browser subscriptions not revoked or expired, newest first.
import { randomUUID } from 'node:crypto';
import { CustomerLookupHandler } from '../src/customers/customer-lookup.handler';
import { DeliveryReceiptsConsumer } from '../src/history/delivery-receipts.consumer';
import { startIdentityHarness, type IdentityHarness } from './identity-support';

describe('customer look-up', () => {
  let h: IdentityHarness;

  beforeAll(async () => {
    h = await startIdentityHarness('lookup');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('gives the customer’s push devices: tokens by provider and web push subscriptions as JSON', async () => {
    const customer = await h.resolve({ userId: 'u-devices', traits: { email: 'dev@example.com' } });
    const register = async (path: string, body: object) =>
      expect((await h.request('POST', `/v1/customers/${customer.id}/${path}`, body)).status).toBe(201);
    await register('device-tokens', { platform: 'android', provider: 'fcm', token: 'fcm-old-0123456789' });
    await register('device-tokens', { platform: 'ios', provider: 'apns', token: 'a'.repeat(64) });
    await register('device-tokens', { platform: 'android', provider: 'fcm', token: 'fcm-new-0123456789' });
    const keys = { p256dh: 'B'.repeat(87), auth: 'a'.repeat(22) };
    await register('web-push-subscriptions', { endpoint: 'https://push.example.com/live', keys });
    await register('web-push-subscriptions', {
      endpoint: 'https://push.example.com/expired',
      keys,
      expirationTime: Date.now() - 1000,
    });
    const revoked = await h.prisma.deviceToken.findFirstOrThrow({ where: { token: 'fcm-old-0123456789' } });
    const lookup = () =>
      h.app.get(CustomerLookupHandler).lookup({ workspaceId: h.workspaceId, customerId: customer.id });
    expect((await lookup()).customer?.pushTargets).toEqual([
      { kind: 'fcm', recipient: 'fcm-new-0123456789' },
      { kind: 'fcm', recipient: 'fcm-old-0123456789' },
      { kind: 'apns', recipient: 'a'.repeat(64) },
      { kind: 'webpush', recipient: JSON.stringify({ endpoint: 'https://push.example.com/live', keys }) },
    ]);

    await h.prisma.deviceToken.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
    expect((await lookup()).customer?.pushTargets?.filter((t) => t.kind === 'fcm')).toEqual([
      { kind: 'fcm', recipient: 'fcm-new-0123456789' },
    ]);
  });

  it('says the email bounced once delivery reports it gone, until the customer gives another', async () => {
    const customer = await h.resolve({ userId: 'u-bounce', traits: { email: 'gone@example.com' } });
    await h.prisma.customer.update({ where: { id: customer.id }, data: { email: 'gone@example.com' } });
    const lookup = async () =>
      (await h.app.get(CustomerLookupHandler).lookup({ workspaceId: h.workspaceId, customerId: customer.id }))
        .customer;
    expect((await lookup())?.emailBounced).toBeUndefined();
    const status = (recipientGone: boolean) => ({
      workspaceId: h.workspaceId,
      idempotencyKey: randomUUID(),
      messageId: randomUUID(),
      customerId: customer.id,
      channel: 'email' as const,
      status: 'bounced' as const,
      reason: 'bounce: 550 5.1.1 user unknown',
      ...(recipientGone && { recipientGone, recipient: 'gone@example.com' }),
      at: new Date().toISOString(),
    });
    const consumer = h.app.get(DeliveryReceiptsConsumer);
    await consumer.onStatus(status(false)); // a soft bounce: the address stays
    expect((await lookup())?.emailBounced).toBeUndefined();
    await consumer.onStatus(status(true));
    expect(await lookup()).toMatchObject({ email: 'gone@example.com', emailBounced: true });
    // A new address is deliverable again.
    await h.prisma.customer.update({ where: { id: customer.id }, data: { email: 'new@example.com' } });
    expect(await lookup()).toMatchObject({ email: 'new@example.com' });
    expect((await lookup())?.emailBounced).toBeUndefined();
  });
});
