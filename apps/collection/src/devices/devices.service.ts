import { Injectable, NotFoundException } from '@nestjs/common';
import type { DeviceTokenRegistration, WebPushSubscriptionRegistration } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
import { DatabaseService } from '@cdp/service-kit';
import { lockAttachableCustomer } from '../customers/attachable-customer';

/** Push addresses of each kind a sender is given at most (a customer's newest devices). */
const PUSH_TARGETS_PER_KIND = 10;

export interface PushTarget {
  kind: 'fcm' | 'apns' | 'webpush';
  recipient: string;
}

/** Where a customer can be reached by push: mobile device tokens and browser push subscriptions. */
@Injectable()
export class DevicesService {
  constructor(private readonly db: DatabaseService) {}

  private async customer(workspaceId: string, customerId: string): Promise<void> {
    const found = await this.db.client.customer.findFirst({
      where: { id: customerId, workspaceId, erasedAt: null },
      select: { id: true },
    });
    if (!found) throw new NotFoundException(`Customer ${customerId} not found`);
  }

  /** Runs `write` for a customer that exists and is not erased, locked against an erasure meanwhile. */
  private attach<T>(
    workspaceId: string,
    customerId: string,
    write: (tx: Prisma.TransactionClient) => Promise<T>,
  ): Promise<T> {
    return this.db.client.$transaction(async (tx) => {
      if (!(await lockAttachableCustomer(tx, workspaceId, customerId)))
        throw new NotFoundException(`Customer ${customerId} not found`);
      return write(tx);
    });
  }

  /** A token moves to the customer who registered it last (a shared or resold device). */
  async registerToken(workspaceId: string, customerId: string, r: DeviceTokenRegistration) {
    const now = new Date();
    const data = {
      customerId,
      platform: r.platform,
      provider: r.provider,
      appId: r.appId ?? null,
      lastSeenAt: now,
      revokedAt: null,
    };
    return this.attach(workspaceId, customerId, (tx) =>
      tx.deviceToken.upsert({
        where: { workspaceId_token: { workspaceId, token: r.token } },
        create: { workspaceId, token: r.token, ...data },
        update: data,
      }),
    );
  }

  async registerWebPush(workspaceId: string, customerId: string, r: WebPushSubscriptionRegistration) {
    const data = {
      customerId,
      p256dh: r.keys.p256dh,
      auth: r.keys.auth,
      userAgent: r.userAgent ?? null,
      expiresAt: typeof r.expirationTime === 'number' ? new Date(r.expirationTime) : null,
      revokedAt: null,
    };
    return this.attach(workspaceId, customerId, (tx) =>
      tx.webPushSubscription.upsert({
        where: { workspaceId_endpoint: { workspaceId, endpoint: r.endpoint } },
        create: { workspaceId, endpoint: r.endpoint, ...data },
        update: data,
      }),
    );
  }

  async list(workspaceId: string, customerId: string) {
    await this.customer(workspaceId, customerId);
    const [deviceTokens, webPushSubscriptions] = await Promise.all([
      this.db.client.deviceToken.findMany({
        where: { workspaceId, customerId, revokedAt: null },
        orderBy: { lastSeenAt: 'desc' },
      }),
      this.db.client.webPushSubscription.findMany({
        where: { workspaceId, customerId, revokedAt: null },
        orderBy: { createdAt: 'desc' },
      }),
    ]);
    return { deviceTokens, webPushSubscriptions };
  }

  /**
   * Where push messages reach the customer, for senders (the customer look-up): device tokens and
   * browser subscriptions not revoked or expired, most recently registered first, at most
   * PUSH_TARGETS_PER_KIND of each (a subscription as the JSON a Web Push sender takes).
   */
  async pushTargets(workspaceId: string, customerId: string): Promise<PushTarget[]> {
    const now = new Date();
    const [tokens, subscriptions] = await Promise.all([
      this.db.client.deviceToken.findMany({
        where: { workspaceId, customerId, revokedAt: null },
        orderBy: { lastSeenAt: 'desc' },
        take: 2 * PUSH_TARGETS_PER_KIND,
        select: { provider: true, token: true },
      }),
      this.db.client.webPushSubscription.findMany({
        where: {
          workspaceId,
          customerId,
          revokedAt: null,
          OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
        },
        orderBy: { createdAt: 'desc' },
        take: PUSH_TARGETS_PER_KIND,
        select: { endpoint: true, p256dh: true, auth: true },
      }),
    ]);
    const ofKind = (kind: 'fcm' | 'apns') =>
      tokens
        .filter((t) => t.provider === kind)
        .slice(0, PUSH_TARGETS_PER_KIND)
        .map((t) => ({ kind, recipient: t.token }));
    return [
      ...ofKind('fcm'),
      ...ofKind('apns'),
      ...subscriptions.map((s) => ({
        kind: 'webpush' as const,
        recipient: JSON.stringify({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } }),
      })),
    ];
  }

  /**
   * Revokes the push address a provider said is gone: a Web Push subscription (as the JSON the
   * look-up gave, by its endpoint) or a device token, whoever holds it now. Idempotent.
   * @returns how many were revoked.
   */
  async revokeGone(workspaceId: string, recipient: string): Promise<number> {
    const endpoint = endpointOf(recipient);
    const where = { workspaceId, revokedAt: null };
    const { count } =
      endpoint === undefined
        ? await this.db.client.deviceToken.updateMany({
            where: { ...where, token: recipient },
            data: { revokedAt: new Date() },
          })
        : await this.db.client.webPushSubscription.updateMany({
            where: { ...where, endpoint },
            data: { revokedAt: new Date() },
          });
    return count;
  }

  async revokeToken(workspaceId: string, customerId: string, tokenId: string): Promise<void> {
    const revoked = await this.db.client.deviceToken.updateMany({
      where: { id: tokenId, workspaceId, customerId },
      data: { revokedAt: new Date() },
    });
    if (revoked.count === 0) throw new NotFoundException(`Device token ${tokenId} not found`);
  }

  async revokeWebPush(workspaceId: string, customerId: string, subscriptionId: string): Promise<void> {
    const revoked = await this.db.client.webPushSubscription.updateMany({
      where: { id: subscriptionId, workspaceId, customerId },
      data: { revokedAt: new Date() },
    });
    if (revoked.count === 0) throw new NotFoundException(`Web push subscription ${subscriptionId} not found`);
  }
}

/** The endpoint of a Web Push subscription given as JSON, or undefined for anything else (a device token). */
function endpointOf(recipient: string): string | undefined {
  if (!recipient.startsWith('{')) return undefined;
  try {
    const { endpoint } = JSON.parse(recipient) as { endpoint?: unknown };
    return typeof endpoint === 'string' ? endpoint : undefined;
  } catch {
    return undefined;
  }
}
