import { Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { Prisma, prismaSql } from '@cdp/db';
import { DatabaseService } from '@cdp/service-kit';
import { isConflict } from '../common/conflicts';
import { identifierLockKey, type Identifier } from '../identity/identifiers';
import { advisoryLocks } from '../merges/advisory-locks';
import { MergeService, MOVED_TABLES } from '../merges/merge.service';
import { SuppressionService } from '../identity/suppressions.service';
import { ErasureAnnouncer } from './erasure-announcer';

type Tx = Prisma.TransactionClient;
type Erased = PayloadOf<typeof Subjects.customerErased>;

export interface ErasureResult extends Erased {
  /** Rows deleted per table by this request (all zero when the customer had been erased before). */
  deleted: Record<string, number>;
  /** Identifiers this request added to the suppression list (0 when erased without suppression). */
  suppressed: number;
}

export interface ErasureOptions {
  /**
   * Also suppress the person's identifiers (default): their calls still queued, and any later
   * ones, are not stored. Without it, the next call of the person makes a new customer.
   */
  suppress: boolean;
}

/** Attempts of an erasure that lost a race (deadlock) before it fails. */
const CONFLICT_ATTEMPTS = 3;
/** Rounds of locking when a concurrent merge or resolution changed the customer while this waited. */
const LOCK_ROUNDS = 5;

/**
 * Right to erasure: deletes a customer's personal data owned by this service and keeps the
 * customer row as a pseudonymous tombstone (id, customer code, lifecycle stage, first and last
 * seen), so other services' references stay valid. The same transaction writes the outbox row of
 * cdp.customer.erased, for the services that hold copies (segment memberships, scores, the
 * delivery ledger).
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly db: DatabaseService,
    private readonly merges: MergeService,
    private readonly announcer: ErasureAnnouncer,
    private readonly suppressions: SuppressionService,
  ) {}

  /**
   * Erases the person an id stands for: the live customer (an id that was merged stands for its
   * survivor) and every profile merged into it. Idempotent: erasing again deletes nothing new,
   * keeps the first `erasedAt` and announces nothing more (unless it found rows to delete).
   */
  async erase(
    workspaceId: string,
    customerId: string,
    actor: string,
    options: ErasureOptions = { suppress: true },
  ): Promise<ErasureResult> {
    const result = await this.eraseRetryingRaces(workspaceId, customerId, actor, options);
    // Published after the commit from the outbox row; if NATS is down the relay's sweep retries.
    await this.announcer.announcePending().catch(() => undefined);
    return result;
  }

  /** A deadlock with a writer that took its locks in another order is retried, not answered 500. */
  private async eraseRetryingRaces(
    workspaceId: string,
    customerId: string,
    actor: string,
    options: ErasureOptions,
  ) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.client.$transaction(
          (tx) => this.eraseIn(tx, workspaceId, customerId, actor, options),
          {
            timeout: 60_000,
            maxWait: 10_000,
          },
        );
      } catch (error) {
        if (attempt >= CONFLICT_ATTEMPTS || !isConflict(error)) throw error;
      }
    }
  }

  private async eraseIn(
    tx: Tx,
    workspaceId: string,
    customerId: string,
    actor: string,
    options: ErasureOptions,
  ): Promise<ErasureResult> {
    const sql = prismaSql(tx);
    const lockedIdentifiers = new Set<string>();
    const lockedCustomers = new Set<string>();
    for (let round = 0; round < LOCK_ROUNDS; round++) {
      const survivor = await this.merges.survivorOf(tx, workspaceId, customerId);
      if (!survivor) throw new NotFoundException(`Customer ${customerId} not found`);
      const family = await this.merges.mergedFamily(tx, survivor.id);
      const identities = await tx.identity.findMany({
        where: { workspaceId, customerId: { in: family } },
        select: { type: true, value: true },
      });
      // Identifiers before customers, as identity resolution takes them: no lock-order deadlock.
      const identifierKeys = identities
        .map((i) => identifierLockKey(workspaceId, i.type, i.value))
        .filter((key) => !lockedIdentifiers.has(key))
        .sort();
      const customerIds = family.filter((id) => !lockedCustomers.has(id));
      if (!identifierKeys.length && !customerIds.length)
        return this.scrub(tx, workspaceId, survivor, family, actor, options);
      await advisoryLocks(sql, identifierKeys);
      await this.merges.lockCustomers(sql, workspaceId, customerIds);
      // Writers that attach rows outside identity resolution (operational data, devices, consents,
      // receipts) share-lock the row: wait for them, and make them find it erased afterwards.
      await tx.$queryRaw`SELECT id FROM customers WHERE id = ANY(${customerIds}::text[]) FOR UPDATE`;
      identifierKeys.forEach((key) => lockedIdentifiers.add(key));
      customerIds.forEach((id) => lockedCustomers.add(id));
      // Read everything again under the locks: a merge or a new identity may have come in meanwhile.
    }
    throw new ServiceUnavailableException(`Customer ${customerId} kept changing while being erased; retry`);
  }

  private async scrub(
    tx: Tx,
    workspaceId: string,
    survivor: { id: string; erasedAt: Date | null },
    family: string[],
    actor: string,
    options: ErasureOptions,
  ): Promise<ErasureResult> {
    const erasedAt = survivor.erasedAt ?? new Date();
    const { customerCode } = await tx.customer.findUniqueOrThrow({
      where: { id: survivor.id },
      select: { customerCode: true },
    });
    const identities = await tx.$queryRaw<Identifier[]>`
      DELETE FROM identities WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${family}::text[])
      RETURNING type, value`;
    // Under the identifier locks ingest takes too: a queued call of the person finds them suppressed.
    const suppressed = options.suppress
      ? await this.suppressions.suppressIn(prismaSql(tx), workspaceId, identities, customerCode, actor)
      : 0;
    const deleted: Record<string, number> = { identities: identities.length };
    // Events with their dedup keys (a key without its event would only point at nothing).
    const [events] = await tx.$queryRaw<Array<{ events: number; keys: number }>>`
      WITH gone AS (
        DELETE FROM events WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${family}::text[])
        RETURNING message_id
      ), keys AS (
        DELETE FROM event_message_ids m USING gone
        WHERE m.workspace_id = ${workspaceId} AND m.message_id = gone.message_id
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM gone)::int AS events, (SELECT count(*) FROM keys)::int AS keys`;
    deleted.events = events!.events;
    deleted.event_message_ids = events!.keys;
    for (const table of MOVED_TABLES.filter((t) => t !== 'events'))
      deleted[table] = await tx.$executeRaw`
        DELETE FROM ${Prisma.raw(table)} WHERE workspace_id = ${workspaceId} AND customer_id = ANY(${family}::text[])`;
    // What merges recorded to undo themselves holds traits and contact data.
    await tx.customerMerge.updateMany({
      where: { workspaceId, OR: [{ survivorId: { in: family } }, { mergedId: { in: family } }] },
      data: { survivorChanges: {} },
    });
    await tx.customer.updateMany({
      where: { workspaceId, id: { in: family } },
      data: {
        gender: null,
        birthDate: null,
        customerValue: null,
        customerType: null,
        email: null,
        bouncedEmail: null,
        phone: null,
        postalAddress: Prisma.DbNull,
        preferences: {},
        traits: {},
        traitTimestamps: {},
        locale: null,
        timezone: null,
        retentionExpiresAt: null,
        erasedAt,
      },
    });
    const fresh = !survivor.erasedAt || Object.values(deleted).some((n) => n > 0);
    if (fresh) {
      // The outbox row of cdp.customer.erased (ErasureAnnouncer publishes it after the commit).
      await tx.customerErasure.create({
        data: { workspaceId, customerId: survivor.id, customerCode, erasedIds: family, actor, erasedAt },
      });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'customer.erased',
          entityType: 'Customer',
          entityId: survivor.id,
          // Never the erased data itself: only what was removed, by count.
          before: { erasedAt: survivor.erasedAt?.toISOString() ?? null },
          after: { erasedAt: erasedAt.toISOString(), erasedIds: family, deleted, suppressed },
        },
      });
    }
    return {
      workspaceId,
      customerId: survivor.id,
      customerCode,
      erasedIds: family,
      erasedAt: erasedAt.toISOString(),
      deleted,
      suppressed,
    };
  }
}
