import { Injectable, Logger } from '@nestjs/common';
import {
  EmailTemplate,
  RpcSubjects,
  Subjects,
  validate,
  type CreateCampaignRequest,
  type PayloadOf,
} from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService } from '@cdp/service-kit';
import { Counter } from 'prom-client';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';
import { emailRecipient, explainSkip } from './consent';

/** A segment entry or exit (the same payload). */
type Membership = PayloadOf<typeof Subjects.segmentEntered>;
export type MembershipChange = 'entered' | 'exited';

const skippedSends = new Counter({
  name: 'campaign_sends_skipped_total',
  help: 'Sends a campaign trigger did not ask for, by reason (no_address, restricted, consent, frequency_cap)',
  labelNames: ['reason'],
});

/** Campaign definitions and their real-time triggers. */
@Injectable()
export class CampaignsService {
  private readonly logger = new Logger(CampaignsService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    private readonly caps: FrequencyCapsService,
  ) {}

  create(workspaceId: string, request: CreateCampaignRequest, createdBy: string) {
    return this.db.client.campaign.create({
      data: {
        workspaceId,
        name: request.name,
        channel: request.channel,
        status: request.status ?? 'draft',
        trigger: request.trigger,
        template: request.template,
        consentPolicy: request.consent ?? 'opt_out',
        createdBy,
      },
    });
  }

  list(workspaceId: string) {
    return this.db.client.campaign.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' } });
  }

  /**
   * Fans a segment entry or exit out to every active campaign it triggers. The idempotency key
   * ties the send to (campaign, customer, channel, change), so a redelivered change never asks twice.
   */
  async onSegmentChange(change: MembershipChange, entry: Membership): Promise<void> {
    const campaigns = await this.db.client.campaign.findMany({
      where: {
        workspaceId: entry.workspaceId,
        status: 'active',
        AND: [
          { trigger: { path: ['type'], equals: `segment_${change}` } },
          { trigger: { path: ['segmentId'], equals: entry.segmentId } },
        ],
      },
    });
    if (!campaigns.length) return;
    const lookup = await this.publisher.request(RpcSubjects.customerLookup, {
      workspaceId: entry.workspaceId,
      customerId: entry.customerId,
    });
    for (const campaign of campaigns) {
      const template = validate(EmailTemplate, campaign.template);
      if (!template.ok) {
        this.logger.warn(
          `campaign ${campaign.id} has an invalid template, skipped: ${JSON.stringify(template.issues)}`,
        );
        continue;
      }
      const decision = emailRecipient(lookup.customer, campaign.consentPolicy);
      if ('skipped' in decision) {
        this.logger.log(
          `campaign ${campaign.id}: customer ${entry.customerId} ${explainSkip(decision.skipped)} (${campaign.consentPolicy}), not sent`,
        );
        skippedSends.inc({ reason: decision.skipped });
        continue;
      }
      const customer = decision.recipient;
      const idempotencyKey = `${campaign.id}:${entry.customerId}:email:${change}@${entry.at}`;
      const send = {
        id: idempotencyKey,
        workspaceId: entry.workspaceId,
        customerId: entry.customerId,
        campaignId: campaign.id,
        channel: 'email' as const,
      };
      // Transactional messages are no marketing: the frequency cap neither counts nor stops them.
      if (campaign.consentPolicy !== 'transactional' && !(await this.caps.admit(send))) {
        this.logger.log(
          `campaign ${campaign.id}: customer ${entry.customerId} reached the workspace's frequency cap, not sent`,
        );
        skippedSends.inc({ reason: 'frequency_cap' });
        continue;
      }
      await this.publisher.publish(
        Subjects.deliveryRequested,
        {
          workspaceId: entry.workspaceId,
          idempotencyKey,
          campaignId: campaign.id,
          step: 'trigger',
          customerId: entry.customerId,
          channel: 'email',
          recipient: customer.email,
          template: template.value,
          variables: {
            traits: customer.traits,
            customerCode: customer.customerCode,
            segment: { id: entry.segmentId, name: entry.segmentName },
          },
          requestedAt: new Date().toISOString(),
        },
        { msgId: idempotencyKey },
      );
    }
  }
}
