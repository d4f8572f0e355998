import { Injectable } from '@nestjs/common';
import {
  type ConsultationRecord,
  type ContractRecord,
  type CustomerRef,
  type TransactionRecord,
  type ValidationIssue,
} from '@cdp/contracts';
import type { Event, Prisma } from '@cdp/db';
import { DatabaseService } from '@cdp/service-kit';
import { CustomerRefResolver } from '../customers/customer-ref.resolver';
import { EventAnnouncer } from '../history/event-announcer';
import { EventStore } from '../history/event-store';
import { LifecycleService } from '../profiles/lifecycle.service';

export interface RecordsResult {
  accepted: number;
  rejected: Array<{ index: number; issues: ValidationIssue[] }>;
}

export type RecordKind = 'contracts' | 'transactions' | 'consultations';

/**
 * Contracted-stage data from operational systems (core banking, policy admin, CRM): contracts
 * held, account transactions and consultations, upserted by (source system, external ref).
 * Contract changes and consultations also enter the interaction history (and so the lifecycle rules).
 */
@Injectable()
export class OperationalService {
  constructor(
    private readonly db: DatabaseService,
    private readonly customers: CustomerRefResolver,
    private readonly events: EventStore,
    private readonly announcer: EventAnnouncer,
    private readonly lifecycle: LifecycleService,
  ) {}

  async importContracts(workspaceId: string, records: ContractRecord[]): Promise<RecordsResult> {
    return this.each(workspaceId, records, 'contracts', async (tx, customerId, r) => {
      const data = {
        customerId,
        productCode: r.productCode,
        productName: r.productName,
        productType: r.productType,
        status: r.status ?? 'active',
        amount: r.amount ?? null,
        currency: r.currency ?? null,
        openedAt: new Date(r.openedAt),
        maturesAt: r.maturesAt ? new Date(r.maturesAt) : null,
        closedAt: r.closedAt ? new Date(r.closedAt) : null,
        attributes: (r.attributes ?? {}) as Prisma.InputJsonValue,
      };
      await tx.contract.upsert(this.upsertByExternalRef(workspaceId, r, data));
      const status = r.status ?? 'active';
      return this.history(tx, {
        workspaceId,
        customerId,
        messageId: `contract:${r.sourceSystem}:${r.externalRef}:${status}`,
        name:
          status === 'active'
            ? 'Contract Opened'
            : status === 'closed'
              ? 'Contract Closed'
              : 'Contract Lapsed',
        journeyStage: status === 'active' ? 'purchase' : 'use',
        channel: 'operational',
        properties: {
          productCode: r.productCode,
          productName: r.productName,
          productType: r.productType,
          sourceSystem: r.sourceSystem,
          externalRef: r.externalRef,
        },
        occurredAt: new Date(status === 'active' ? r.openedAt : (r.closedAt ?? r.openedAt)),
      });
    });
  }

  async importTransactions(workspaceId: string, records: TransactionRecord[]): Promise<RecordsResult> {
    return this.each(workspaceId, records, 'transactions', async (tx, customerId, r) => {
      const contract = r.contractRef
        ? await tx.contract.findUnique({
            where: {
              workspaceId_sourceSystem_externalRef: {
                workspaceId,
                sourceSystem: r.sourceSystem,
                externalRef: r.contractRef,
              },
            },
            select: { id: true },
          })
        : null;
      const data = {
        customerId,
        contractId: contract?.id ?? null,
        kind: r.kind,
        amount: r.amount,
        currency: r.currency,
        channel: r.channel ?? null,
        description: r.description ?? null,
        occurredAt: new Date(r.occurredAt),
      };
      await tx.accountTransaction.upsert(this.upsertByExternalRef(workspaceId, r, data));
      return undefined;
    });
  }

  async importConsultations(workspaceId: string, records: ConsultationRecord[]): Promise<RecordsResult> {
    return this.each(workspaceId, records, 'consultations', async (tx, customerId, r) => {
      const data = {
        customerId,
        channel: r.channel,
        topic: r.topic,
        summary: r.summary ?? null,
        agentRef: r.agentRef ?? null,
        outcome: r.outcome ?? null,
        durationSeconds: r.durationSeconds ?? null,
        occurredAt: new Date(r.occurredAt),
      };
      await tx.consultation.upsert(this.upsertByExternalRef(workspaceId, r, data));
      return this.history(tx, {
        workspaceId,
        customerId,
        messageId: `consultation:${r.sourceSystem}:${r.externalRef}`,
        name: 'Consultation Held',
        journeyStage: 'use',
        channel: r.channel,
        properties: {
          topic: r.topic,
          outcome: r.outcome ?? null,
          sourceSystem: r.sourceSystem,
          externalRef: r.externalRef,
        },
        occurredAt: new Date(r.occurredAt),
      });
    });
  }

  /** One customer's records of a kind, newest first (Customer 360). */
  list(workspaceId: string, customerId: string, kind: RecordKind, limit: number) {
    const where = { workspaceId, customerId };
    switch (kind) {
      case 'contracts':
        return this.db.client.contract.findMany({ where, orderBy: { openedAt: 'desc' }, take: limit });
      case 'transactions':
        return this.db.client.accountTransaction.findMany({
          where,
          orderBy: { occurredAt: 'desc' },
          take: limit,
        });
      case 'consultations':
        return this.db.client.consultation.findMany({ where, orderBy: { occurredAt: 'desc' }, take: limit });
    }
  }

  /**
   * The upsert arguments shared by every operational table: the row is keyed by (workspace, source
   * system, external ref), and a re-import overwrites `data`.
   */
  private upsertByExternalRef<D extends object>(
    workspaceId: string,
    record: { sourceSystem: string; externalRef: string },
    data: D,
  ) {
    const key = { workspaceId, sourceSystem: record.sourceSystem, externalRef: record.externalRef };
    return {
      where: { workspaceId_sourceSystem_externalRef: key },
      create: { ...key, ...data },
      update: data,
    };
  }

  /**
   * Each record in its own transaction so one unknown customer does not reject the batch; the
   * history events it wrote are announced after commit, then lifecycle rules run on them.
   */
  private async each<R extends { customer: CustomerRef }>(
    workspaceId: string,
    records: R[],
    kind: RecordKind,
    write: (tx: Prisma.TransactionClient, customerId: string, record: R) => Promise<Event | undefined>,
  ): Promise<RecordsResult> {
    const result: RecordsResult = { accepted: 0, rejected: [] };
    for (const [index, record] of records.entries()) {
      const event = await this.db.client.$transaction(async (tx) => {
        const customerId = await this.customers.resolve(tx, workspaceId, record.customer);
        if (!customerId) return null;
        return (await write(tx, customerId, record)) ?? undefined;
      });
      if (event === null) {
        result.rejected.push({
          index,
          issues: [
            {
              path: `/records/${index}/customer`,
              reason: `no customer with this ${record.customer.id ? 'id' : 'identifier'} (${kind})`,
            },
          ],
        });
        continue;
      }
      result.accepted++;
      if (event) await this.announce(event);
    }
    return result;
  }

  private async history(
    tx: Prisma.TransactionClient,
    e: {
      workspaceId: string;
      customerId: string;
      messageId: string;
      name: string;
      journeyStage: 'purchase' | 'use';
      channel: Event['channel'];
      properties: Record<string, unknown>;
      occurredAt: Date;
    },
  ): Promise<Event> {
    const existing = await this.events.findByMessageId(tx, e.workspaceId, e.messageId);
    if (existing) return existing;
    return this.events.append(tx, {
      workspaceId: e.workspaceId,
      customerId: e.customerId,
      messageId: e.messageId,
      type: 'system',
      name: e.name,
      channel: e.channel,
      journeyStage: e.journeyStage,
      properties: e.properties as Prisma.InputJsonValue,
      context: {},
      occurredAt: e.occurredAt,
      receivedAt: new Date(),
    });
  }

  private async announce(event: Event): Promise<void> {
    const customer = await this.db.client.customer.findUniqueOrThrow({
      where: { id: event.customerId! },
      select: { customerCode: true },
    });
    await this.announcer.announce(event, customer.customerCode);
    // After the event's own commit, on every retry of the record too: stages only move forward.
    await this.lifecycle.advanceMany(
      await this.lifecycle.changesFor([
        {
          workspaceId: event.workspaceId,
          customerId: event.customerId!,
          messageId: event.messageId,
          ...(event.name && { name: event.name }),
          ...(event.journeyStage && { journeyStage: event.journeyStage }),
        },
      ]),
    );
  }
}
