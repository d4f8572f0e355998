import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import {
  CAMPAIGN_CHANNELS,
  CampaignTemplate,
  PUSH_MAX_BODY,
  PUSH_TARGETS,
  RpcSubjects,
  SMS_MAX_BODY,
  Subjects,
  validate,
  type CampaignChannel,
  type CreateCampaignRequest,
  type PayloadOf,
  type PushTarget,
} from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, invalidInput } from '@cdp/service-kit';
import { Counter } from 'prom-client';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';
import { explainSkip, recipientsFor, type Destination } from './consent';

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
  if (channel === 'push') {
    if (template.html !== undefined) return ['/template/html', 'a push message has no HTML body'];
    if (template.body.length > PUSH_MAX_BODY)
      return ['/template/body', `a push body is at most ${PUSH_MAX_BODY} characters (providers carry 4 KB)`];
    return undefined;
  }
  if (template.subject !== undefined) return ['/template/subject', 'an SMS has no subject'];
  if (template.html !== undefined) return ['/template/html', 'an SMS has no HTML body'];
  if (template.body.length > SMS_MAX_BODY)
    return ['/template/body', `an SMS body is at most ${SMS_MAX_BODY} characters (10 segments)`];
  return undefined;
}

const isCampaignChannel = (channel: string): channel is CampaignChannel =>
  (CAMPAIGN_CHANNELS as readonly string[]).includes(channel);

const isPushTarget = (target: string | null): target is PushTarget =>
  (PUSH_TARGETS as readonly (string | null)[]).includes(target);

/** A stored campaign's destination and template as checked at creation, or why it cannot send (stored before a check). */
function sendable(campaign: {
  channel: string;
  pushTo: string | null;
  template: unknown;
}): { destination: Destination; template: CampaignTemplate } | { problem: string } {
  const { channel, pushTo } = campaign;
  if (!isCampaignChannel(channel)) return { problem: `campaigns do not send on ${channel}` };
  const template = validate(CampaignTemplate, campaign.template);
  if (!template.ok) return { problem: `invalid template: ${JSON.stringify(template.issues)}` };
  const problem = templateProblem(channel, template.value);
  if (problem) return { problem: `${problem[0]}: ${problem[1]}` };
  const destination = {
    channel,
    ...(channel === 'push' && { pushTo: isPushTarget(pushTo) ? pushTo : 'app' }),
  };
  return { destination, template: template.value };
}

/** A short stable name of a push address, for the idempotency key of the send to it. */
const deviceKey = (address: string) => createHash('sha256').update(address).digest('hex').slice(0, 16);

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
    if (request.pushTo !== undefined && request.channel !== 'push')
      throw invalidInput('/pushTo', 'only a push campaign has pushTo');
    return this.db.client.campaign.create({
      data: {
        workspaceId,
        name: request.name,
        channel: request.channel,
        pushTo: request.channel === 'push' ? (request.pushTo ?? 'app') : null,
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
      const { destination, template } = checked;
      const { channel } = destination;
      const decision = recipientsFor(destination, lookup.customer, campaign.consentPolicy);
      if ('skipped' in decision) {
        this.logger.log(
          `campaign ${campaign.id}: customer ${entry.customerId} ${explainSkip(destination, decision.skipped)} (${campaign.consentPolicy}), not sent`,
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
      // One message per address: a push campaign reaches each of the customer's devices of its kind.
      await this.publisher.publishMany(
        decision.addresses.map((recipient) => {
          const key = channel === 'push' ? `${idempotencyKey}:${deviceKey(recipient)}` : idempotencyKey;
          return {
            subject: Subjects.deliveryRequested,
            payload: {
              workspaceId: entry.workspaceId,
              idempotencyKey: key,
              campaignId: campaign.id,
              step: 'trigger',
              customerId: entry.customerId,
              channel,
              recipient,
              template,
              variables: {
                traits: customer.traits,
                customerCode: customer.customerCode,
                segment: { id: entry.segmentId, name: entry.segmentName },
              },
              requestedAt: new Date().toISOString(),
            },
            msgId: key,
          };
        }),
      );
    }
  }
}
