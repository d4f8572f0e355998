import { createHash } from 'node:crypto';
import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  CAMPAIGN_CHANNELS,
  CampaignTemplate,
  CampaignVariants,
  PUSH_MAX_BODY,
  PUSH_TARGETS,
  RpcSubjects,
  SMS_MAX_BODY,
  Subjects,
  validate,
  type CampaignChannel,
  type CampaignSchedule,
  type CampaignVariant,
  type CreateCampaignRequest,
  type UpdateCampaignRequest,
  type PayloadOf,
  type PushTarget,
  type ReplyOf,
} from '@cdp/contracts';
import { Prisma, type Campaign } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, invalidInput, queueOptions, ScheduledJobs, SERVICE_CONFIG } from '@cdp/service-kit';
import { Counter } from 'prom-client';
import type { CampaignConfig } from '../config';
import { FrequencyCapsService } from '../frequency/frequency-caps.service';
import { explainSkip, recipientsFor, type Destination } from './consent';
import { assignmentOf, DEFAULT_VARIANT, HOLDOUT } from './experiment';
import { customerTimeZone, quietUntil } from './quiet-hours';
import {
  changedSchedule,
  inActivePeriod,
  scheduleOf,
  scheduleProblem,
  type ScheduleChanges,
} from './schedule';

/** A segment entry or exit (the same payload). */
type Membership = PayloadOf<typeof Subjects.segmentEntered>;
export type MembershipChange = 'entered' | 'exited';

type LookedUp = ReplyOf<typeof RpcSubjects.customerLookup>['customer'];

/** Held triggers handled per page when their quiet hours end. */
const RELEASE_PAGE = 200;
const RELEASE_HELD = 'release-held-triggers';

const heldTriggers = new Counter({
  name: 'campaign_triggers_held_total',
  help: "Campaign triggers held because they fell in the campaign's quiet hours (handled when they end)",
});

const skippedSends = new Counter({
  name: 'campaign_sends_skipped_total',
  help: 'Sends a campaign trigger did not ask for, by reason (no_address, restricted, consent, frequency_cap, outside_schedule, holdout)',
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

/** What is wrong with a campaign's message(s) for its channel, as [field path, reason], if anything. */
function messageProblem(
  channel: CampaignChannel,
  message: { template?: CampaignTemplate | undefined; variants?: readonly CampaignVariant[] | undefined },
): [string, string] | undefined {
  const { template, variants } = message;
  if (template && variants) return ['/variants', 'give either template or variants'];
  if (!variants)
    return template ? templateProblem(channel, template) : ['/template', 'give template or variants'];
  const names = new Set<string>();
  for (const [i, variant] of variants.entries()) {
    if (variant.name === HOLDOUT || names.has(variant.name))
      return [`/variants/${i}/name`, `must differ from the other variants' and from "${HOLDOUT}"`];
    names.add(variant.name);
    const problem = templateProblem(channel, variant.template);
    if (problem) return [`/variants/${i}${problem[0]}`, problem[1]];
  }
  return undefined;
}

/** A stored campaign's destination and message(s) as checked at creation, or why it cannot send (stored before a check). */
function sendable(campaign: {
  channel: string;
  pushTo: string | null;
  template: unknown;
  variants: unknown;
}):
  | { destination: Destination; template: CampaignTemplate; variants: CampaignVariant[] | undefined }
  | { problem: string } {
  const { channel, pushTo } = campaign;
  if (!isCampaignChannel(channel)) return { problem: `campaigns do not send on ${channel}` };
  const template = validate(CampaignTemplate, campaign.template);
  if (!template.ok) return { problem: `invalid template: ${JSON.stringify(template.issues)}` };
  const variants = campaign.variants === null ? undefined : validate(CampaignVariants, campaign.variants);
  if (variants && !variants.ok) return { problem: `invalid variants: ${JSON.stringify(variants.issues)}` };
  const problem = messageProblem(
    channel,
    variants ? { variants: variants.value } : { template: template.value },
  );
  if (problem) return { problem: `${problem[0]}: ${problem[1]}` };
  const destination = {
    channel,
    ...(channel === 'push' && { pushTo: isPushTarget(pushTo) ? pushTo : 'app' }),
  };
  return { destination, template: template.value, variants: variants?.value };
}

/** A short stable name of a push address, for the idempotency key of the send to it. */
const deviceKey = (address: string) => createHash('sha256').update(address).digest('hex').slice(0, 16);

/** Campaign definitions and their real-time triggers. */
@Injectable()
export class CampaignsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CampaignsService.name);
  private readonly jobs: ScheduledJobs;

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    private readonly caps: FrequencyCapsService,
    @Inject(SERVICE_CONFIG) private readonly config: CampaignConfig,
  ) {
    this.jobs = new ScheduledJobs('campaign-quiet-hours', queueOptions(config));
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    await this.jobs.start([{ name: RELEASE_HELD, everyMs: this.config.QUIET_HOURS_RELEASE_EVERY_MS }], () =>
      this.releaseDue(),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }

  create(workspaceId: string, request: CreateCampaignRequest, createdBy: string) {
    const { quietHours, startsAt, endsAt, variants } = request;
    const schedule = changedSchedule({}, { quietHours, startsAt, endsAt });
    const problem = messageProblem(request.channel, request) ?? scheduleProblem(schedule);
    if (problem) throw invalidInput(...problem);
    // Checked above: a template, or at least two variants.
    const template = request.template ?? variants![0]!.template;
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
        template,
        ...(variants && { variants }),
        holdoutPercent: request.holdoutPercent ?? 0,
        consentPolicy: request.consent ?? 'opt_out',
        ...(Object.keys(schedule).length && { schedule }),
        createdBy,
      },
    });
  }

  async get(workspaceId: string, campaignId: string): Promise<Campaign> {
    const campaign = await this.db.client.campaign.findFirst({ where: { id: campaignId, workspaceId } });
    if (!campaign) throw new NotFoundException(`Campaign ${campaignId} not found`);
    return campaign;
  }

  /**
   * Renames, activates, pauses or archives a campaign, or changes its template (checked for its
   * channel; an A/B test's variants stay), quiet hours or active period. An archived campaign
   * changes no more (409). Triggers held in quiet hours follow the campaign's state when they end.
   */
  async update(workspaceId: string, campaignId: string, request: UpdateCampaignRequest): Promise<Campaign> {
    const campaign = await this.get(workspaceId, campaignId);
    if (campaign.status === 'archived')
      throw new ConflictException(`Campaign ${campaignId} is archived and cannot change`);
    const { channel } = campaign;
    if (request.template) {
      if (!isCampaignChannel(channel)) throw invalidInput('/template', `campaigns do not send on ${channel}`);
      if (campaign.variants !== null)
        throw invalidInput('/template', "an A/B test sends its variants' templates, which do not change");
      const problem = templateProblem(channel, request.template);
      if (problem) throw invalidInput(...problem);
    }
    const { quietHours, startsAt, endsAt } = request;
    const changes: ScheduleChanges = { quietHours, startsAt, endsAt };
    const scheduleChanged = Object.values(changes).some((value) => value !== undefined);
    const schedule = changedSchedule(scheduleOf(campaign.schedule), changes);
    const problem = scheduleProblem(schedule);
    if (problem) throw invalidInput(...problem);
    return this.db.client.campaign.update({
      where: { id: campaign.id },
      data: {
        ...(request.name !== undefined && { name: request.name }),
        ...(request.status !== undefined && { status: request.status }),
        ...(request.template && { template: request.template }),
        ...(scheduleChanged && { schedule: Object.keys(schedule).length ? schedule : Prisma.DbNull }),
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
    const customer = await this.lookUp(entry);
    for (const campaign of campaigns) await this.trigger(campaign, change, entry, customer);
  }

  /**
   * Handles the held triggers whose quiet hours have ended, as if they had just arrived (consent,
   * restriction and caps as they stand now), for campaigns still active; each is deleted once
   * handled. One that fails (collection not answering the look-up) stays for the next run.
   */
  async releaseDue(now = new Date()): Promise<number> {
    const failed: string[] = [];
    let released = 0;
    for (;;) {
      const due = await this.db.client.heldTrigger.findMany({
        where: { releaseAt: { lte: now }, id: { notIn: failed } },
        orderBy: { releaseAt: 'asc' },
        take: RELEASE_PAGE,
        include: { campaign: true },
      });
      if (!due.length) return released;
      for (const held of due) {
        const membership = held.membership as Membership;
        try {
          if (held.campaign.status === 'active')
            await this.trigger(
              held.campaign,
              held.change as MembershipChange,
              membership,
              await this.lookUp(membership),
              {
                released: true,
              },
            );
          await this.db.client.heldTrigger.deleteMany({ where: { id: held.id } });
          released++;
        } catch (error) {
          failed.push(held.id);
          this.logger.warn(
            `held trigger ${held.id} not handled, kept for the next run: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }
  }

  /** An erased customer's held triggers and experiment groups go with them. */
  async forgetCustomers(workspaceId: string, customerIds: string[]): Promise<void> {
    const where = { workspaceId, customerId: { in: customerIds } };
    await this.db.client.heldTrigger.deleteMany({ where });
    await this.db.client.campaignAssignment.deleteMany({ where });
  }

  /**
   * How many customers the campaign kept in its control group and sent each variant (each
   * customer counted once, in the group they were first assigned to).
   */
  async assignments(workspaceId: string, campaignId: string) {
    const campaign = await this.get(workspaceId, campaignId);
    const counted = await this.db.client.campaignAssignment.groupBy({
      by: ['assignedTo'],
      where: { campaignId: campaign.id },
      _count: { _all: true },
    });
    const checked = sendable(campaign);
    const names =
      'problem' in checked || !checked.variants ? [DEFAULT_VARIANT] : checked.variants.map((v) => v.name);
    const groups: Record<string, number> = Object.fromEntries([HOLDOUT, ...names].map((name) => [name, 0]));
    for (const row of counted) groups[row.assignedTo] = row._count._all;
    return { campaignId: campaign.id, holdoutPercent: campaign.holdoutPercent, groups };
  }

  /** Records the customer's group in the campaign's experiment; the first one recorded stays. */
  private async assign(campaign: Campaign, customerId: string, assignedTo: string): Promise<void> {
    await this.db.client.campaignAssignment.createMany({
      data: [{ campaignId: campaign.id, customerId, workspaceId: campaign.workspaceId, assignedTo }],
      skipDuplicates: true,
    });
  }

  private async lookUp(entry: Membership): Promise<LookedUp> {
    const lookup = await this.publisher.request(RpcSubjects.customerLookup, {
      workspaceId: entry.workspaceId,
      customerId: entry.customerId,
    });
    return lookup.customer;
  }

  /**
   * One campaign's send for one segment change, step by step: the campaign's active period, the
   * customer's consent and addresses, the quiet hours (held until they end, unless `released`
   * from them), the control group, the frequency caps; then one delivery request per address.
   */
  private async trigger(
    campaign: Campaign,
    change: MembershipChange,
    entry: Membership,
    customer: LookedUp,
    { released = false }: { released?: boolean } = {},
  ): Promise<void> {
    const checked = sendable(campaign);
    if ('problem' in checked) {
      this.logger.warn(`campaign ${campaign.id} skipped: ${checked.problem}`);
      return;
    }
    const { destination } = checked;
    const { channel } = destination;
    const schedule = scheduleOf(campaign.schedule);
    if (!inActivePeriod(schedule)) {
      this.logger.log(
        `campaign ${campaign.id}: outside its active period (${schedule.startsAt ?? '…'} to ${schedule.endsAt ?? '…'}), customer ${entry.customerId} not sent`,
      );
      skippedSends.inc({ reason: 'outside_schedule' });
      return;
    }
    const decision = recipientsFor(destination, customer, campaign.consentPolicy);
    if ('skipped' in decision) {
      this.logger.log(
        `campaign ${campaign.id}: customer ${entry.customerId} ${explainSkip(destination, decision.skipped)} (${campaign.consentPolicy}), not sent`,
      );
      skippedSends.inc({ reason: decision.skipped });
      return;
    }
    const idempotencyKey = `${campaign.id}:${entry.customerId}:${channel}:${change}@${entry.at}`;
    if (
      !released &&
      (await this.heldInQuietHours(campaign, change, entry, customer!, schedule, idempotencyKey))
    )
      return;
    const assignment = assignmentOf(
      { id: campaign.id, holdoutPercent: campaign.holdoutPercent, variants: checked.variants },
      checked.template,
      entry.customerId,
    );
    if (assignment.holdout) {
      await this.assign(campaign, entry.customerId, HOLDOUT);
      this.logger.log(
        `campaign ${campaign.id}: customer ${entry.customerId} is in its control group, not sent`,
      );
      skippedSends.inc({ reason: 'holdout' });
      return;
    }
    const { template, variant } = assignment;
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
      return;
    }
    await this.assign(campaign, entry.customerId, variant);
    await this.requestSends(campaign, entry, customer!, {
      channel,
      addresses: decision.addresses,
      idempotencyKey,
      template,
      variant,
    });
  }

  /** Holds the trigger if it falls in the campaign's quiet hours (in the customer's time zone where known). */
  private async heldInQuietHours(
    campaign: Campaign,
    change: MembershipChange,
    entry: Membership,
    customer: NonNullable<LookedUp>,
    schedule: CampaignSchedule,
    idempotencyKey: string,
  ): Promise<boolean> {
    const quiet = schedule.quietHours;
    if (!quiet) return false;
    const timeZone = customerTimeZone(customer.traits) ?? quiet.timeZone;
    const releaseAt = quietUntil(new Date(), quiet, timeZone);
    if (!releaseAt) return false;
    await this.db.client.heldTrigger.createMany({
      data: [
        {
          id: idempotencyKey,
          workspaceId: entry.workspaceId,
          campaignId: campaign.id,
          customerId: entry.customerId,
          change,
          membership: entry,
          releaseAt,
        },
      ],
      skipDuplicates: true,
    });
    heldTriggers.inc();
    this.logger.log(
      `campaign ${campaign.id}: customer ${entry.customerId} is in the quiet hours (${timeZone}), held until ${releaseAt.toISOString()}`,
    );
    return true;
  }

  /** One delivery request per address: a push campaign reaches each of the customer's devices of its kind. */
  private async requestSends(
    campaign: Campaign,
    entry: Membership,
    customer: NonNullable<LookedUp>,
    send: {
      channel: CampaignChannel;
      addresses: string[];
      idempotencyKey: string;
      template: CampaignTemplate;
      variant: string;
    },
  ): Promise<void> {
    const { channel, idempotencyKey, template, variant } = send;
    await this.publisher.publishMany(
      send.addresses.map((recipient) => {
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
              campaign: { id: campaign.id, name: campaign.name, variant },
            },
            requestedAt: new Date().toISOString(),
          },
          msgId: key,
        };
      }),
    );
  }
}
