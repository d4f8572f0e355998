import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { Prisma, prismaSql, type Customer, type CustomerMerge, type Sql } from '@cdp/db';
import { DatabaseService } from '@cdp/service-kit';
import { advisoryLocks } from './advisory-locks';
import { MergeAnnouncer } from './merge-announcer';

type Tx = Prisma.TransactionClient;
type Json = Prisma.InputJsonValue;

export type MergeReason = 'alias' | 'shared_identifier';

/**
 * Tables whose rows belong to a customer and follow it into the survivor (and go with it when it
 * is erased). Segment memberships, scores and persona assignments are analysis's: it reacts to
 * cdp.identity.merged itself.
 */
export const MOVED_TABLES = [
  'events',
  'consents',
  'device_tokens',
  'web_push_subscriptions',
  'contracts',
  'account_transactions',
  'consultations',
] as const;

/** Bound on merged_into_id chains followed in one look-up (chains are short in practice). */
const MAX_CHAIN = 32;

interface TakenValue {
  had: boolean;
  before?: unknown;
  taken: unknown;
}

/** What a merge changed on the survivor, so that unmerge can revert exactly that. */
interface SurvivorChanges {
  traits: Record<string, TakenValue>;
  email?: TakenValue;
  phone?: TakenValue;
  firstSeenAt?: string;
  /** Survivor consents overwritten by a newer decision of the merged customer, by consent id. */
  consents?: Record<string, { before: ConsentDecision; taken: ConsentDecision }>;
}

/** The decision part of a consent row (JSON-safe: dates as ISO strings). */
interface ConsentDecision {
  status: 'granted' | 'withdrawn';
  source: string;
  evidence: unknown;
  grantedAt: string | null;
  withdrawnAt: string | null;
  expiresAt: string | null;
}

const CONSENT_FIELDS = {
  status: true,
  source: true,
  evidence: true,
  grantedAt: true,
  withdrawnAt: true,
  expiresAt: true,
} as const;

function decisionOf(c: {
  status: 'granted' | 'withdrawn';
  source: string;
  evidence: unknown;
  grantedAt: Date | null;
  withdrawnAt: Date | null;
  expiresAt: Date | null;
}): ConsentDecision {
  return {
    status: c.status,
    source: c.source,
    evidence: c.evidence,
    grantedAt: c.grantedAt?.toISOString() ?? null,
    withdrawnAt: c.withdrawnAt?.toISOString() ?? null,
    expiresAt: c.expiresAt?.toISOString() ?? null,
  };
}

function consentData(d: ConsentDecision): Prisma.ConsentUpdateInput {
  return {
    status: d.status,
    source: d.source,
    evidence: d.evidence as Json,
    grantedAt: d.grantedAt ? new Date(d.grantedAt) : null,
    withdrawnAt: d.withdrawnAt ? new Date(d.withdrawnAt) : null,
    expiresAt: d.expiresAt ? new Date(d.expiresAt) : null,
  };
}

export interface MergeInput {
  workspaceId: string;
  survivor: Customer;
  merged: Customer;
  reason: MergeReason;
  identifierType: string;
  actor: string;
}

/**
 * Merging and unmerging customers, and the merge history.
 *
 * Moved rows keep where they came from in original_customer_id (set on their first move, kept on
 * later ones): a merge is one set-based UPDATE per table, whatever the number of events, and an
 * unmerge sends back every row whose original customer is the split customer or one merged into it.
 */
@Injectable()
export class MergeService {
  constructor(
    private readonly db: DatabaseService,
    private readonly announcer: MergeAnnouncer,
  ) {}

  /** Serialises everything that changes these customers' identities (resolution, merge, unmerge). */
  async lockCustomers(sql: Sql, workspaceId: string, customerIds: Iterable<string>): Promise<void> {
    await advisoryLocks(
      sql,
      [...new Set(customerIds)].sort().map((id) => `${workspaceId}|customer|${id}`),
    );
  }

  /** Merges `merged` into `survivor` inside the caller's transaction (both locked by the caller). */
  async merge(tx: Tx, input: MergeInput): Promise<CustomerMerge> {
    const { workspaceId, survivor, merged } = input;
    const consentChanges = await this.adoptNewerConsents(tx, survivor.id, merged.id);
    const moved = await tx.identity.findMany({ where: { customerId: merged.id }, select: { id: true } });
    await tx.identity.updateMany({ where: { customerId: merged.id }, data: { customerId: survivor.id } });
    for (const table of MOVED_TABLES) {
      // Consents are unique per (customer, purpose, channel): where both have one, the survivor's
      // row stays (holding the newer decision, see adoptNewerConsents) and the merged profile keeps its own.
      const keepSurvivorConsent =
        table === 'consents'
          ? Prisma.sql`AND NOT EXISTS (SELECT 1 FROM consents s WHERE s.customer_id = ${survivor.id}
               AND s.purpose = t.purpose AND s.channel = t.channel)`
          : Prisma.empty;
      await tx.$executeRaw`
        UPDATE ${Prisma.raw(table)} t
        SET original_customer_id = coalesce(t.original_customer_id, t.customer_id), customer_id = ${survivor.id}
        WHERE t.workspace_id = ${workspaceId} AND t.customer_id = ${merged.id} ${keepSurvivorConsent}`;
    }
    const { data, changes } = mergedProfile(survivor, merged);
    if (Object.keys(consentChanges).length) changes.consents = consentChanges;
    await tx.customer.update({ where: { id: survivor.id }, data });
    const mergedAt = new Date();
    await tx.customer.update({ where: { id: merged.id }, data: { mergedIntoId: survivor.id, mergedAt } });
    const record = await tx.customerMerge.create({
      data: {
        workspaceId,
        survivorId: survivor.id,
        mergedId: merged.id,
        reason: input.reason,
        identifierType: input.identifierType,
        movedIdentityIds: moved.map((m) => m.id),
        survivorChanges: changes as unknown as Json,
        actor: input.actor,
        mergedAt,
      },
    });
    await tx.auditLog.create({
      data: {
        workspaceId,
        actor: input.actor,
        action: 'customer.merged',
        entityType: 'Customer',
        entityId: merged.id,
        before: { mergedIntoId: null },
        after: { mergedIntoId: survivor.id, mergeId: record.id, reason: input.reason },
      },
    });
    this.announcer.announceSoon();
    return record;
  }

  /**
   * Undoes a merge: the split customer gets back its identities, its rows (and those of customers
   * merged into it before), the events that arrived since the merge under its user or anonymous
   * ids, and the survivor loses the traits the merge gave it (unless changed since). Refused while
   * the survivor is itself merged: undo that later merge first.
   */
  async unmerge(workspaceId: string, mergeId: string, actor: string): Promise<CustomerMerge> {
    const result = await this.db.client.$transaction(
      async (tx) => {
        const found = await tx.customerMerge.findFirst({ where: { id: mergeId, workspaceId } });
        if (!found) throw new NotFoundException(`Merge ${mergeId} not found`);
        await this.lockCustomers(prismaSql(tx), workspaceId, [found.survivorId, found.mergedId]);
        const merge = await tx.customerMerge.findUniqueOrThrow({ where: { id: mergeId } });
        if (merge.unmergedAt) throw new ConflictException(`Merge ${mergeId} was already undone`);
        const survivor = await tx.customer.findUniqueOrThrow({ where: { id: merge.survivorId } });
        // Erasure scrubbed what the merge recorded and deleted the identities it moved.
        if (survivor.erasedAt)
          throw new ConflictException(`Customer ${survivor.id} was erased; its merges cannot be undone`);
        if (survivor.mergedIntoId)
          throw new ConflictException(
            `Customer ${survivor.id} was merged into ${survivor.mergedIntoId} since; undo that merge first`,
          );
        const split = merge.mergedId;
        const family = await this.mergedFamily(tx, split);
        const restored = await tx.identity.findMany({
          where: { id: { in: merge.movedIdentityIds }, customerId: survivor.id },
          select: { id: true, type: true, value: true },
        });
        await tx.identity.updateMany({
          where: { id: { in: restored.map((i) => i.id) } },
          data: { customerId: split },
        });
        for (const table of MOVED_TABLES)
          await tx.$executeRaw`
            UPDATE ${Prisma.raw(table)} t
            SET customer_id = ${split},
                original_customer_id = CASE WHEN t.original_customer_id = ${split} THEN NULL ELSE t.original_customer_id END
            WHERE t.workspace_id = ${workspaceId} AND t.customer_id = ${survivor.id}
              AND t.original_customer_id = ANY(${family}::text[])`;
        // An event since the merge follows its most trusted identifier (user id, else anonymous id),
        // as resolution would have without the merge.
        const userIds = restored.filter((i) => i.type === 'user_id').map((i) => i.value);
        const anonymousIds = restored.filter((i) => i.type === 'anonymous_id').map((i) => i.value);
        await tx.$executeRaw`
          UPDATE events SET customer_id = ${split}
          WHERE workspace_id = ${workspaceId} AND customer_id = ${survivor.id} AND original_customer_id IS NULL
            AND received_at >= ${merge.mergedAt}
            AND CASE WHEN user_id IS NOT NULL THEN user_id = ANY(${userIds}::text[])
                     ELSE anonymous_id = ANY(${anonymousIds}::text[]) END`;
        const changes = merge.survivorChanges as unknown as SurvivorChanges;
        await tx.customer.update({ where: { id: survivor.id }, data: revertedProfile(survivor, changes) });
        await this.revertConsents(tx, changes.consents);
        await tx.customer.update({ where: { id: split }, data: { mergedIntoId: null, mergedAt: null } });
        const undone = await tx.customerMerge.update({
          where: { id: mergeId },
          data: { unmergedAt: new Date(), unmergedBy: actor },
        });
        await tx.auditLog.create({
          data: {
            workspaceId,
            actor,
            action: 'customer.unmerged',
            entityType: 'Customer',
            entityId: split,
            before: { mergedIntoId: survivor.id, mergeId },
            after: { mergedIntoId: null },
          },
        });
        return undone;
      },
      { timeout: 60_000 },
    );
    await this.announcer.announcePending().catch(() => undefined); // the sweep retries
    return result;
  }

  /**
   * Where both customers have a consent for the same purpose and channel, the more recent decision
   * must hold for the merged person (a withdrawal must never be lost): the survivor's row takes the
   * merged customer's decision when that one is newer. Returns what was overwritten, for unmerge.
   */
  private async adoptNewerConsents(tx: Tx, survivorId: string, mergedId: string) {
    const [mine, theirs] = await Promise.all(
      [survivorId, mergedId].map((customerId) => tx.consent.findMany({ where: { customerId } })),
    );
    const changes: NonNullable<SurvivorChanges['consents']> = {};
    for (const own of mine!) {
      const other = theirs!.find((t) => t.purpose === own.purpose && t.channel === own.channel);
      if (!other || other.updatedAt <= own.updatedAt) continue;
      const taken = decisionOf(other);
      changes[own.id] = { before: decisionOf(own), taken };
      await tx.consent.update({ where: { id: own.id }, data: consentData(taken) });
    }
    return changes;
  }

  /** Gives back the survivor's own consent decisions, unless they changed after the merge. */
  private async revertConsents(tx: Tx, changes: SurvivorChanges['consents']) {
    for (const [id, change] of Object.entries(changes ?? {})) {
      const current = await tx.consent.findUnique({ where: { id }, select: CONSENT_FIELDS });
      if (current && isDeepStrictEqual(decisionOf(current), change.taken))
        await tx.consent.update({ where: { id }, data: consentData(change.before) });
    }
  }

  /** The customer and every customer (still) merged into it, directly or through others. */
  async mergedFamily(tx: Tx, customerId: string): Promise<string[]> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      WITH RECURSIVE family(id, depth) AS (
        SELECT ${customerId}::text, 0
        UNION ALL
        SELECT c.id, f.depth + 1 FROM customers c JOIN family f ON c.merged_into_id = f.id WHERE f.depth < ${MAX_CHAIN}
      )
      SELECT DISTINCT id FROM family`;
    return rows.map((r) => r.id);
  }

  /** Merges a customer took part in, as survivor or as merged customer, newest first. */
  async history(workspaceId: string, customerId: string) {
    const customer = await this.db.client.customer.findFirst({ where: { id: customerId, workspaceId } });
    if (!customer) throw new NotFoundException(`Customer ${customerId} not found`);
    const merges = await this.db.client.customerMerge.findMany({
      where: { workspaceId, OR: [{ survivorId: customerId }, { mergedId: customerId }] },
      orderBy: { mergedAt: 'desc' },
      take: 200,
    });
    return { items: merges.map(({ survivorChanges: _changes, ...merge }) => merge) };
  }

  /**
   * The live customer an id stands for: itself, or the survivor it was merged into (following
   * merged_into_id). Null if the id is not a customer of the workspace, or its survivor was erased.
   */
  async liveCustomerId(workspaceId: string, customerId: string): Promise<string | null> {
    const survivor = await this.survivorOf(this.db.client, workspaceId, customerId);
    return survivor && !survivor.erasedAt ? survivor.id : null;
  }

  /** The end of an id's merged_into_id chain, erased or not; null if the id is not a customer of the workspace. */
  async survivorOf(
    db: Tx,
    workspaceId: string,
    customerId: string,
  ): Promise<{ id: string; erasedAt: Date | null } | null> {
    const rows = await db.$queryRaw<
      Array<{ id: string; merged_into_id: string | null; erased_at: Date | null }>
    >`
      WITH RECURSIVE chain(id, merged_into_id, erased_at, depth) AS (
        SELECT id, merged_into_id, erased_at, 0 FROM customers WHERE id = ${customerId} AND workspace_id = ${workspaceId}
        UNION ALL
        SELECT c.id, c.merged_into_id, c.erased_at, ch.depth + 1 FROM customers c JOIN chain ch ON c.id = ch.merged_into_id
        WHERE ch.depth < ${MAX_CHAIN}
      )
      SELECT id, merged_into_id, erased_at FROM chain ORDER BY depth DESC LIMIT 1`;
    const last = rows[0];
    return last && !last.merged_into_id ? { id: last.id, erasedAt: last.erased_at } : null;
  }
}

/**
 * Survivor's attributes after the merge: on a conflicting trait the value set by the newer call
 * wins (trait timestamps), or, where either lacks a timestamp, the more recently seen profile's.
 */
function mergedProfile(
  survivor: Customer,
  merged: Customer,
): { data: Prisma.CustomerUpdateInput; changes: SurvivorChanges } {
  const mergedWins = merged.lastSeenAt > survivor.lastSeenAt;
  const traits = { ...asObject(survivor.traits) };
  const timestamps = { ...asObject(survivor.traitTimestamps) };
  const theirTimestamps = asObject(merged.traitTimestamps);
  const changes: SurvivorChanges = { traits: {} };
  for (const [key, value] of Object.entries(asObject(merged.traits))) {
    const had = key in traits;
    const [mine, theirs] = [timestamps[key], theirTimestamps[key]];
    const theirsIsNewer =
      typeof mine === 'string' && typeof theirs === 'string'
        ? Date.parse(theirs) > Date.parse(mine)
        : mergedWins;
    if (had && (!theirsIsNewer || isDeepStrictEqual(traits[key], value))) continue;
    changes.traits[key] = had ? { had, before: traits[key], taken: value } : { had, taken: value };
    traits[key] = value;
    if (typeof theirs === 'string') timestamps[key] = theirs;
  }
  const data: Prisma.CustomerUpdateInput = { traits: traits as Json, traitTimestamps: timestamps as Json };
  for (const field of ['email', 'phone'] as const) {
    const mine = survivor[field];
    const theirs = merged[field];
    if (theirs && theirs !== mine && (!mine || mergedWins)) {
      changes[field] = { had: mine !== null, before: mine, taken: theirs };
      data[field] = theirs;
    }
  }
  if (merged.firstSeenAt < survivor.firstSeenAt) {
    changes.firstSeenAt = survivor.firstSeenAt.toISOString();
    data.firstSeenAt = merged.firstSeenAt;
  }
  if (mergedWins) data.lastSeenAt = merged.lastSeenAt;
  return { data, changes };
}

/** Reverts what the merge took from the merged customer, unless the value changed since. */
function revertedProfile(survivor: Customer, changes: SurvivorChanges): Prisma.CustomerUpdateInput {
  const traits = { ...asObject(survivor.traits) };
  for (const [key, change] of Object.entries(changes.traits ?? {})) {
    if (!isDeepStrictEqual(traits[key], change.taken)) continue;
    if (change.had) traits[key] = change.before;
    else delete traits[key];
  }
  const data: Prisma.CustomerUpdateInput = { traits: traits as Json };
  for (const field of ['email', 'phone'] as const) {
    const change = changes[field];
    if (change && survivor[field] === change.taken) data[field] = (change.before as string | null) ?? null;
  }
  if (changes.firstSeenAt) data.firstSeenAt = new Date(changes.firstSeenAt);
  return data;
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
