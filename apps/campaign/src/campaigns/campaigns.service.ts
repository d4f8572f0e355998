import { Injectable, Logger } from '@nestjs/common';
import {
  CAMPAIGN_CHANNELS,
  CampaignTemplate,
  RpcSubjects,
  SMS_MAX_BODY,
  Subjects,
  validate,
  type CampaignChannel,
  type CreateCampaignRequest,
  type PayloadOf,
} from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, invalidInput } from '@cdp/service-kit';
import { Counter } from 'prom-client';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';
import { explainSkip, recipientOn } from './consent';

/** A segment entry or exit (the same payload). */
type Membership = PayloadOf<typeof Subjects.segmentEntered>;
export type MembershipChange = 'entered' | 'exited';

const skippedSends = new Counter({
  name: 'campaign_sends_skipped_total',
  help: 'Sends a campaign trigger did not ask for, by reason (no_address, restricted, consent, frequency_cap)',
  labelNames: ['reason'],
});

/** What a channel's message needs beyond the template's schema: the field's path and why, if anything is wrong. */
function templateProblem(channel: CampaignChannel, template: CampaignTemplate): [string, string] | undefined {
  if (channel === 'email')
    return template.subject === undefined ? ['/template/subject', 'an email needs a subject'] : undefined;
  if (template.subject !== undefined) return ['/template/subject', 'an SMS has no subject'];
  if (template.html !== undefined) return ['/template/html', 'an SMS has no HTML body'];
  if (template.body.length > SMS_MAX_BODY)
    return ['/template/body', `an SMS body is at most ${SMS_MAX_BODY} characters (10 segments)`];
  return undefined;
}

const isCampaignChannel = (channel: string): channel is CampaignChannel =>
  (CAMPAIGN_CHANNELS as readonly string[]).includes(channel);

/** A stored campaign's channel and template as checked at creation, or why it cannot send (stored before a check). */
function sendable(campaign: {
  channel: string;
  template: unknown;
}): { channel: CampaignChannel; template: CampaignTemplate } | { problem: string } {
  const { channel } = campaign;
  if (!isCampaignChannel(channel)) return { problem: `campaigns do not send on ${channel}` };
  const template = validate(CampaignTemplate, campaign.template);
  if (!template.ok) return { problem: `invalid template: ${JSON.stringify(template.issues)}` };
  const problem = templateProblem(channel, template.value);
  return problem ? { problem: `${problem[0]}: ${problem[1]}` } : { channel, template: template.value };
}

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
    const problem = templateProblem(request.channel, request.template);
    if (problem) throw invalidInput(...problem);
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
      const checked = sendable(campaign);
      if ('problem' in checked) {
        this.logger.warn(`campaign ${campaign.id} skipped: ${checked.problem}`);
        continue;
      }
      const { channel, template } = checked;
      const decision = recipientOn(channel, lookup.customer, campaign.consentPolicy);
      if ('skipped' in decision) {
        this.logger.log(
          `campaign ${campaign.id}: customer ${entry.customerId} ${explainSkip(channel, decision.skipped)} (${campaign.consentPolicy}), not sent`,
        );
        skippedSends.inc({ reason: decision.skipped });
        continue;
      }
      const customer = lookup.customer!;
      const idempotencyKey = `${campaign.id}:${entry.customerId}:${channel}:${change}@${entry.at}`;
      const send = {
        id: idempotencyKey,
        workspaceId: entry.workspaceId,
        customerId: entry.customerId,
        campaignId: campaign.id,
        channel,
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
          channel,
          recipient: decision.address,
          template,
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
