import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { ConsentState, PayloadOf, RecordConsentRequest, Subjects } from '@cdp/contracts';
import type { Consent, ConsentChannel, ConsentPurpose, Prisma } from '@cdp/db';
import { DatabaseService } from '@cdp/service-kit';
import { EventStore } from '../history/event-store';
import { MergeService } from '../merges/merge.service';

type ConsentChange = PayloadOf<typeof Subjects.consentChanged>;

/** Consent channel → the interaction channel of its history event. */
const HISTORY_CHANNEL: Record<ConsentChannel, 'email' | 'sms' | 'push' | 'call_centre' | 'other'> = {
  email: 'email',
  sms: 'sms',
  push: 'push',
  phone: 'call_centre',
  post: 'other',
  any: 'other',
};

export type ConsentOutcome = 'applied' | 'stale' | 'unknown-customer';

/**
 * Collection owns consents; every other service reports changes with cdp.consent.changed. The row
 * is keyed by (workspace, customer, purpose, channel); `updatedAt` holds the time of the change it
 * reflects, so a change older than that (a late redelivery) is ignored and a redelivery of the same
 * change writes the same row and no second history event.
 */
@Injectable()
export class ConsentsService {
  private readonly logger = new Logger(ConsentsService.name);

  constructor(
    private readonly db: DatabaseService,
    private readonly events: EventStore,
    private readonly merges: MergeService,
  ) {}

  async record(change: ConsentChange): Promise<ConsentOutcome> {
    // The contract limits purpose and channel to the database enums; invalid messages are dead-lettered before this runs.
    const purpose: ConsentPurpose = change.purpose;
    const channel: ConsentChannel = change.channel;
    const at = new Date(change.at);
    const key = { workspaceId: change.workspaceId, customerId: change.customerId, purpose, channel };

    return this.db.client.$transaction(async (tx) => {
      // Serialises concurrent changes of one consent (the row may not exist yet: lock the customer),
      // and with an erasure: once that has committed, the re-checked row no longer matches.
      const [customer] = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM customers
        WHERE id = ${change.customerId} AND workspace_id = ${change.workspaceId} AND erased_at IS NULL
        FOR UPDATE`;
      if (!customer) {
        // Erased customers keep no consent rows; there is nothing to attach the change to.
        this.logger.warn(
          `consent change for unknown customer ${change.customerId} in ${change.workspaceId} ignored`,
        );
        return 'unknown-customer';
      }
      const current = await tx.consent.findUnique({
        where: { workspaceId_customerId_purpose_channel: key },
      });
      if (current && at < current.updatedAt) return 'stale';

      const evidence = (change.evidence ?? {}) as Prisma.InputJsonValue;
      const granted = change.status === 'granted';
      // A repeated state keeps the time it first began; a change of state starts a new one.
      const since = (kept: Date | null | undefined, same: boolean) => (same && kept ? kept : at);
      const data = {
        status: change.status,
        source: change.source,
        evidence,
        updatedAt: at,
        // A grant lapses when it says; a withdrawal has nothing to lapse.
        expiresAt: granted && change.expiresAt ? new Date(change.expiresAt) : null,
        ...(granted
          ? { grantedAt: since(current?.grantedAt, current?.status === 'granted') }
          : { withdrawnAt: since(current?.withdrawnAt, current?.status === 'withdrawn') }),
      };
      await tx.consent.upsert({
        where: { workspaceId_customerId_purpose_channel: key },
        create: { ...key, ...data },
        update: data,
      });

      const messageId = `consent:${change.customerId}:${purpose}:${channel}:${change.status}:${at.toISOString()}`;
      if (!(await this.events.findByMessageId(tx, change.workspaceId, messageId)))
        await this.events.append(tx, {
          workspaceId: change.workspaceId,
          customerId: customer.id,
          messageId,
          type: 'system',
          name: granted ? 'Consent Granted' : 'Consent Withdrawn',
          channel: HISTORY_CHANNEL[channel],
          properties: {
            purpose,
            consentChannel: channel,
            status: change.status,
            source: change.source,
            evidence,
          },
          context: {},
          occurredAt: at,
          receivedAt: new Date(),
        });
      return 'applied';
    });
  }

  /**
   * A consent given or withdrawn through the REST API (preference centre, branch, call centre): a
   * merged id records on its survivor; 404 for an unknown or erased customer. Answers the consent
   * as it stands afterwards (unchanged when a newer change was recorded before).
   */
  async recordRequest(
    workspaceId: string,
    customerId: string,
    request: RecordConsentRequest,
    actor: string,
  ): Promise<{ applied: boolean; consent: Consent }> {
    const live = await this.merges.liveCustomerId(workspaceId, customerId);
    if (!live) throw new NotFoundException(`Customer ${customerId} not found`);
    const outcome = await this.record({
      workspaceId,
      customerId: live,
      purpose: request.purpose,
      channel: request.channel,
      status: request.status,
      source: request.source,
      at: request.at ?? new Date().toISOString(),
      evidence: { ...request.evidence, recordedBy: actor },
      ...(request.expiresAt && { expiresAt: request.expiresAt }),
    });
    if (outcome === 'unknown-customer') throw new NotFoundException(`Customer ${customerId} not found`);
    const consent = await this.db.client.consent.findUniqueOrThrow({
      where: {
        workspaceId_customerId_purpose_channel: {
          workspaceId,
          customerId: live,
          purpose: request.purpose,
          channel: request.channel,
        },
      },
    });
    return { applied: outcome === 'applied', consent };
  }

  /** A customer's consents as they stand, in the shape other services read (customer look-up RPC). */
  async states(workspaceId: string, customerId: string): Promise<ConsentState[]> {
    const rows = await this.db.client.consent.findMany({
      where: { workspaceId, customerId },
      select: { purpose: true, channel: true, status: true, expiresAt: true },
    });
    return rows.map((r) => ({
      purpose: r.purpose,
      channel: r.channel,
      status: r.status,
      ...(r.expiresAt && { expiresAt: r.expiresAt.toISOString() }),
    }));
  }

  async list(workspaceId: string, customerId: string): Promise<Consent[]> {
    const customer = await this.db.client.customer.findFirst({
      where: { id: customerId, workspaceId },
      select: { id: true },
    });
    if (!customer) throw new NotFoundException(`Customer ${customerId} not found`);
    return this.db.client.consent.findMany({
      where: { workspaceId, customerId },
      orderBy: [{ purpose: 'asc' }, { channel: 'asc' }],
    });
  }
}
