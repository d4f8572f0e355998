import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Subjects } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { consentChannelOf } from './consent-channel';
import { LinkSigner, type LinkClaims } from './link-signer';
import { ReceiptsService } from './receipts.service';

/** Opens, clicks and one-click unsubscribes arriving through signed links. */
@Injectable()
export class EngagementService {
  private readonly logger = new Logger(EngagementService.name);

  constructor(
    private readonly signer: LinkSigner,
    private readonly receipts: ReceiptsService,
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  /** The claims of a valid token; 404 for a tampered or foreign one (tells a prober nothing). */
  claims(token: string): LinkClaims {
    const claims = this.signer.verify(token);
    if (!claims) throw new NotFoundException('Unknown link');
    return claims;
  }

  async opened(claims: LinkClaims): Promise<void> {
    await this.receipts.apply(
      { messageId: claims.m, workspaceId: claims.w },
      { status: 'opened', at: new Date() },
    );
  }

  /** Where a click goes: only the URL signed in the token. */
  clickTarget(claims: LinkClaims): string {
    if (!claims.u || !/^https?:\/\//i.test(claims.u)) throw new NotFoundException('Unknown link');
    return claims.u;
  }

  /**
   * Records a click. The recipient is redirected even when this fails (a dead link is worse than
   * a missing click); the failure is logged.
   */
  async clicked(claims: LinkClaims): Promise<void> {
    try {
      await this.receipts.apply(
        { messageId: claims.m, workspaceId: claims.w },
        { status: 'clicked', at: new Date() },
      );
    } catch (e) {
      this.logger.error(`click on message ${claims.m} not recorded: ${(e as Error).message}`);
    }
  }

  /**
   * Withdraws marketing consent for the message's channel. Delivery does not own consents: it tells
   * collection with cdp.consent.changed. Repeats within the dedup window publish nothing new.
   */
  async unsubscribe(claims: LinkClaims): Promise<void> {
    const message = await this.db.client.message.findFirst({
      where: { id: claims.m, workspaceId: claims.w },
      select: { id: true, workspaceId: true, customerId: true, channel: true },
    });
    if (!message) throw new NotFoundException('Unknown link');
    await this.publisher.publish(
      Subjects.consentChanged,
      {
        workspaceId: message.workspaceId,
        customerId: message.customerId,
        purpose: 'marketing',
        channel: consentChannelOf(claims.c ?? message.channel),
        status: 'withdrawn',
        source: 'one-click-unsubscribe',
        at: new Date().toISOString(),
        evidence: { messageId: message.id },
      },
      { msgId: `consent:unsubscribe:${message.id}` },
    );
  }
}
