import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { CampaignChannel, FrequencyCapChannel, FrequencyCapRequest } from '@cdp/contracts';
import {
  DatabaseService,
  queueOptions,
  ScheduledJobs,
  SERVICE_CONFIG,
  type BaseConfig,
} from '@cdp/service-kit';

const HOUR_MS = 3_600_000;
/** Sends are kept as long as the longest period a cap may have (FrequencyCapRequest). */
export const SEND_RETENTION_HOURS = 720;
const PRUNE_SENDS = 'prune-campaign-sends';

export interface PlannedSend {
  /** The delivery request's idempotency key. */
  id: string;
  workspaceId: string;
  customerId: string;
  campaignId: string;
  channel: CampaignChannel;
}

/**
 * The workspace's frequency caps on marketing sends (one over all channels, one per channel), and
 * the record of sends they count. A send is admitted (and recorded) under a per-customer lock, so
 * two campaigns triggered for one customer at once cannot both pass a cap that has room for one.
 */
@Injectable()
export class FrequencyCapsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(FrequencyCapsService.name);
  private readonly jobs: ScheduledJobs;

  constructor(
    private readonly db: DatabaseService,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
  ) {
    this.jobs = new ScheduledJobs('campaign-maintenance', queueOptions(config));
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    await this.jobs.start([{ name: PRUNE_SENDS, everyMs: HOUR_MS }], () => this.prune());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }

  /** The workspace's caps: over all channels (`any`), and per channel. */
  async get(workspaceId: string) {
    const caps = await this.db.client.frequencyCap.findMany({
      where: { workspaceId },
      orderBy: { channel: 'asc' },
    });
    return {
      frequencyCap: caps.find((c) => c.channel === 'any') ?? null,
      byChannel: caps.filter((c) => c.channel !== 'any'),
    };
  }

  set(workspaceId: string, { channel = 'any', ...cap }: FrequencyCapRequest, updatedBy: string) {
    return this.db.client.frequencyCap.upsert({
      where: { workspaceId_channel: { workspaceId, channel } },
      create: { workspaceId, channel, ...cap, updatedBy },
      update: { ...cap, updatedBy },
    });
  }

  async remove(workspaceId: string, channel: FrequencyCapChannel = 'any'): Promise<{ removed: boolean }> {
    const { count } = await this.db.client.frequencyCap.deleteMany({ where: { workspaceId, channel } });
    return { removed: count > 0 };
  }

  /**
   * Whether the caps let this send go out (the one over all channels and its channel's); if so it
   * is recorded (and counts against later ones). A send recorded before (the same request
   * redelivered) is admitted again.
   */
  async admit(send: PlannedSend, now = new Date()): Promise<boolean> {
    return this.db.client.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`campaign-send:${send.workspaceId}:${send.customerId}`}, 0))`;
      if (await tx.campaignSend.findUnique({ where: { id: send.id }, select: { id: true } })) return true;
      const caps = await tx.frequencyCap.findMany({
        where: { workspaceId: send.workspaceId, channel: { in: ['any', send.channel] } },
      });
      for (const cap of caps) {
        const sent = await tx.campaignSend.count({
          where: {
            workspaceId: send.workspaceId,
            customerId: send.customerId,
            ...(cap.channel !== 'any' && { channel: send.channel }),
            requestedAt: { gt: new Date(now.getTime() - cap.periodHours * HOUR_MS) },
          },
        });
        if (sent >= cap.maxSends) return false;
      }
      await tx.campaignSend.create({ data: { ...send, requestedAt: now } });
      return true;
    });
  }

  /** An erased customer's sends go (the ids tie a person to the campaigns they got). */
  async forgetCustomers(workspaceId: string, customerIds: string[]): Promise<number> {
    const { count } = await this.db.client.campaignSend.deleteMany({
      where: { workspaceId, customerId: { in: customerIds } },
    });
    return count;
  }

  /** Deletes sends older than any cap's period; returns how many. */
  async prune(now = new Date()): Promise<number> {
    const { count } = await this.db.client.campaignSend.deleteMany({
      where: { requestedAt: { lt: new Date(now.getTime() - SEND_RETENTION_HOURS * HOUR_MS) } },
    });
    if (count) this.logger.log(`deleted ${count} campaign sends older than ${SEND_RETENTION_HOURS} h`);
    return count;
  }
}
