import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CreateAdAudienceRequest, RpcSubjects, Subjects, type PayloadOf } from '@cdp/contracts';
import type { AdAudience, AdAudienceMember } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, invalidInput, MicroBatcher, parseBody, SERVICE_CONFIG } from '@cdp/service-kit';
import type { DeliveryConfig } from '../config';
import { columnsOf, sealedOf } from '../providers/providers.service';
import { SecretBox } from '../providers/secret-box';
import { CustomerMatchAdapter, hashedMember, type HashedMember } from './customer-match.adapter';

type Membership = PayloadOf<typeof Subjects.segmentEntered>;
type Change = 'add' | 'remove';

export interface AdAudienceView {
  id: string;
  segmentId: string;
  provider: string;
  externalAudienceId: string;
  settings: Record<string, unknown>;
  createdAt: string;
}

/**
 * Keeps ad-platform audiences in line with segments: a customer entering a segment is looked up
 * (e-mail, phone) through collection's customer look-up and added, as hashes, to every audience
 * synced from that segment; leaving, or being erased, removes them by the hashes recorded when
 * they were added. Calls are batched per audience and change.
 */
@Injectable()
export class AudiencesService implements OnApplicationShutdown {
  private readonly logger = new Logger(AudiencesService.name);
  private readonly batchers = new Map<string, MicroBatcher<HashedMember>>();

  constructor(
    private readonly db: DatabaseService,
    private readonly secretBox: SecretBox,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryConfig,
  ) {}

  async create(workspaceId: string, body: unknown): Promise<AdAudienceView> {
    const request = parseBody(CreateAdAudienceRequest, body);
    const segment = await this.db.client.segment.findFirst({ where: { id: request.segmentId, workspaceId } });
    if (!segment)
      throw invalidInput('/segmentId', 'no such segment in this workspace', 'Invalid request body');
    const row = await this.db.client.adAudience.create({
      data: {
        workspaceId,
        segmentId: request.segmentId,
        provider: request.provider,
        externalAudienceId: request.externalAudienceId,
        settings: request.settings,
        ...columnsOf(this.secretBox.seal(request.secrets)),
      },
    });
    return view(row);
  }

  async list(workspaceId: string): Promise<AdAudienceView[]> {
    const rows = await this.db.client.adAudience.findMany({
      where: { workspaceId },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(view);
  }

  /**
   * Resolves once every audience of the segment accepted the change; throws (to retry) otherwise.
   * An addition is recorded with the hashes sent; a removal sends those recorded hashes (the
   * look-up only for a member added before they were recorded), then forgets them.
   */
  async sync(change: Change, membership: Membership): Promise<void> {
    const { workspaceId, customerId } = membership;
    const audiences = await this.db.client.adAudience.findMany({
      where: { workspaceId, segmentId: membership.segmentId },
    });
    if (!audiences.length) return;
    if (change === 'add') {
      const member = await this.lookUp(workspaceId, customerId, { forAdding: true });
      if (!member) return;
      await Promise.all(audiences.map((a) => this.batcherFor(a.id, 'add').add(member)));
      await this.record(workspaceId, customerId, audiences, member);
      return;
    }
    const recorded = await this.db.client.adAudienceMember.findMany({
      where: { customerId, audienceId: { in: audiences.map((a) => a.id) } },
    });
    const unrecorded = audiences.filter((a) => !recorded.some((r) => r.audienceId === a.id));
    const member = unrecorded.length ? await this.lookUp(workspaceId, customerId) : undefined;
    await Promise.all([
      this.removeRecorded(recorded),
      ...(member ? unrecorded.map((a) => this.batcherFor(a.id, 'remove').add(member)) : []),
    ]);
  }

  /**
   * The ad-platform part of an erasure (cdp.customer.erased): the customers are removed from every
   * audience delivery added them to, by the hashes it sent (their contact data is already gone).
   */
  async forget(workspaceId: string, customerIds: string[]): Promise<number> {
    const members = await this.db.client.adAudienceMember.findMany({
      where: { workspaceId, customerId: { in: customerIds } },
    });
    await this.removeRecorded(members);
    return members.length;
  }

  /** Removes recorded members by the hashes sent when they were added, then forgets the records. */
  private async removeRecorded(members: AdAudienceMember[]): Promise<void> {
    if (!members.length) return;
    await Promise.all(
      members.map((m) => this.batcherFor(m.audienceId, 'remove').add([m.emailSha256, m.phoneSha256])),
    );
    await this.db.client.adAudienceMember.deleteMany({ where: { id: { in: members.map((m) => m.id) } } });
  }

  /** The customer's hashes; none to add a customer whose processing is restricted (removing them still works). */
  private async lookUp(
    workspaceId: string,
    customerId: string,
    { forAdding = false } = {},
  ): Promise<HashedMember | undefined> {
    const reply = await this.publisher.request(RpcSubjects.customerLookup, { workspaceId, customerId }, 5000);
    if (forAdding && reply.customer?.restricted) {
      this.logger.log(
        `customer ${customerId} has processing restricted (suppressed): not shared with ad audiences`,
      );
      return undefined;
    }
    const member = reply.customer && hashedMember(reply.customer);
    if (!member) this.logger.debug(`customer ${customerId} not found or has no e-mail/phone: not synced`);
    return member;
  }

  private async record(
    workspaceId: string,
    customerId: string,
    audiences: AdAudience[],
    [emailSha256, phoneSha256]: HashedMember,
  ): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO ad_audience_members (id, workspace_id, audience_id, customer_id, email_sha256, phone_sha256)
       SELECT gen_random_uuid()::text, $1, audience_id, $2, $3, $4 FROM unnest($5::text[]) AS audience_id
       ON CONFLICT (audience_id, customer_id)
       DO UPDATE SET email_sha256 = EXCLUDED.email_sha256, phone_sha256 = EXCLUDED.phone_sha256, added_at = now()`,
      [workspaceId, customerId, emailSha256, phoneSha256, audiences.map((a) => a.id)],
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((b) => b.drain()));
  }

  private batcherFor(audienceId: string, change: Change): MicroBatcher<HashedMember> {
    const key = `${audienceId}|${change}`;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      batcher = new MicroBatcher<HashedMember>({
        maxSize: this.config.AUDIENCE_BATCH_SIZE,
        maxDelayMs: this.config.AUDIENCE_BATCH_WAIT_MS,
        concurrentFlushes: true,
        flush: (members) => this.send(audienceId, change, members),
      });
      this.batchers.set(key, batcher);
    }
    return batcher;
  }

  private async send(audienceId: string, change: Change, members: HashedMember[]): Promise<void> {
    // Read at flush time, so changed credentials apply to the next batch.
    const audience = await this.db.client.adAudience.findUniqueOrThrow({ where: { id: audienceId } });
    const settings = audience.settings as { baseUrl: string };
    const { accessToken } = this.secretBox.open(sealedOf(audience)) as { accessToken: string };
    const adapter = new CustomerMatchAdapter({
      baseUrl: settings.baseUrl,
      externalAudienceId: audience.externalAudienceId,
      accessToken,
      timeoutMs: this.config.PROVIDER_HTTP_TIMEOUT_MS,
    });
    await (change === 'add' ? adapter.add(members) : adapter.remove(members));
  }
}

function view(row: AdAudience): AdAudienceView {
  return {
    id: row.id,
    segmentId: row.segmentId,
    provider: row.provider,
    externalAudienceId: row.externalAudienceId,
    settings: row.settings as Record<string, unknown>,
    createdAt: row.createdAt.toISOString(),
  };
}
