import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { prismaSql, type Customer, type Prisma, type Sql } from '@cdp/db';
import { SERVICE_CONFIG } from '@cdp/service-kit';
import { advisoryLocks } from '../merges/advisory-locks';
import { MergeAnnouncer } from '../merges/merge-announcer';
import { MergeService } from '../merges/merge.service';
import {
  identifierLockKey,
  identifiersOf as identifiersOfCall,
  PREVIOUS_ID,
  type IdentifiableCall,
  type Identifier,
} from './identifiers';
import { groupBatch, needsLimitCounts, planGroup, type KnownIdentity, type LimitCounts } from './batch-plan';
import { IdentityRulesService } from './identity-rules.service';
import type { RuleBook } from './identity-rules';
import { NationalIdHasher } from './national-id';
import { SuppressionService } from './suppressions.service';

export { identifiersOf, normalizeEmail, normalizePhone, PREVIOUS_ID, type Identifier } from './identifiers';
export { stripNationalId } from './national-id';

type Tx = Prisma.TransactionClient;

/** Pseudonymous customer code: random, carries no personal meaning (Crockford base32, 16 chars). */
export function newCustomerCode(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(16);
  let code = 'C';
  for (const b of bytes.subarray(0, 15)) code += alphabet[b % 32];
  return code;
}

export interface ResolveOptions {
  /** Message id of the call, recorded with merges (`ingest:<messageId>`) and refusals. */
  messageId?: string;
}

/** One call of a batch to resolve. */
export interface ResolveRequest {
  workspaceId: string;
  identifiers: Identifier[];
  sourceId?: string;
  seenAt: Date;
  messageId?: string;
}

/** What callers of a batch resolution need of each customer. */
export type ResolvedCustomer = Pick<Customer, 'id' | 'customerCode' | 'traits' | 'traitTimestamps'>;

export interface BatchResolution {
  /**
   * The live customer of each request, in request order; null for a request that carries a
   * suppressed identifier (an erased person's): it resolves to no one and must not be stored.
   */
  customerIds: (string | null)[];
  /** Those customers as they are after the batch's resolution. */
  customers: Map<string, ResolvedCustomer>;
  /** Requests that had to be resolved one by one (they could merge, refuse or split). */
  sequential: number;
}

interface Link {
  customerId: string;
  types: Set<string>;
  alias: boolean;
}

/** Bound on re-reads when a concurrent merge moved identifiers while this call waited for locks. */
const MAX_LOCK_ROUNDS = 5;

/** Thrown by {@link IdentityService.resolveMany} when a batch must be resolved call by call. */
export class CallByCallNeeded extends Error {
  constructor() {
    super('this batch may merge, refuse or split customers: resolve it in a Prisma transaction');
  }
}

interface NewCustomerRow {
  id: string;
  workspaceId: string;
  customerCode: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

interface NewIdentityRow {
  workspaceId: string;
  customerId: string;
  type: string;
  value: string;
  sourceId: string | null;
  seenAt: Date;
}

/** New customers in one statement; lifecycle stage, traits and the rest take their column defaults. */
async function insertCustomers(sql: Sql, rows: readonly NewCustomerRow[]): Promise<void> {
  if (!rows.length) return;
  await sql.execute(
    `INSERT INTO customers (id, workspace_id, customer_code, first_seen_at, last_seen_at, updated_at)
    SELECT id, workspace_id, customer_code, first_seen_at, last_seen_at, now()
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
      AS v(id, workspace_id, customer_code, first_seen_at, last_seen_at)`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.workspaceId),
      rows.map((r) => r.customerCode),
      rows.map((r) => r.firstSeenAt.toISOString()),
      rows.map((r) => r.lastSeenAt.toISOString()),
    ],
  );
}

/** New identities in one statement (ids are random UUIDs, as Prisma's uuid() default makes them). */
async function insertIdentities(sql: Sql, rows: readonly NewIdentityRow[]): Promise<void> {
  if (!rows.length) return;
  await sql.execute(
    `INSERT INTO identities (id, workspace_id, customer_id, type, value, source_id, first_seen_at, last_seen_at)
    SELECT gen_random_uuid()::text, workspace_id, customer_id, type, value, source_id, seen, seen
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
      AS v(workspace_id, customer_id, type, value, source_id, seen)`,
    [
      rows.map((r) => r.workspaceId),
      rows.map((r) => r.customerId),
      rows.map((r) => r.type),
      rows.map((r) => r.value),
      rows.map((r) => r.sourceId),
      rows.map((r) => r.seenAt.toISOString()),
    ],
  );
}

/**
 * Identity resolution: links a call's identifiers to one customer inside the caller's
 * transaction, creating, linking and merging customers under the workspace's identity rules.
 *
 * Locking: advisory transaction locks on the identifiers (sorted), then on the customers that own
 * them (sorted), then a re-read. Concurrent first calls of one new person therefore create one
 * customer, and concurrent calls that would merge the same customers run one after the other (the
 * second finds them merged). Callers that resolve several calls in ONE transaction can still meet
 * a deadlock (40P01) with another such transaction; Postgres aborts one, which must retry.
 */
@Injectable()
export class IdentityService {
  private readonly nationalIds: NationalIdHasher;

  constructor(
    private readonly rules: IdentityRulesService,
    private readonly merges: MergeService,
    private readonly announcer: MergeAnnouncer,
    private readonly suppressions: SuppressionService,
    @Inject(SERVICE_CONFIG) config: { NATIONAL_ID_HMAC_SECRET: string },
  ) {
    this.nationalIds = new NationalIdHasher(config.NATIONAL_ID_HMAC_SECRET);
  }

  /** All identifiers of a call, the national ID hashed under the workspace key. */
  identifiersOf(call: IdentifiableCall & { workspaceId: string }): Identifier[] {
    return identifiersOfCall(call, this.nationalIds);
  }

  /** The national ID hash as stored (national_id_hmac), e.g. to look a customer up by it. */
  hashNationalId(workspaceId: string, nationalId: string): string {
    return this.nationalIds.hash(workspaceId, nationalId);
  }

  /** Publishes merges made in a transaction that has just committed (the sweep does it otherwise). */
  announceMerges(): void {
    this.announcer.announceNow();
  }

  /** The advisory-lock keys of these identifiers, sorted (resolve and resolveMany take the same ones). */
  private lockKeys(workspaceId: string, identifiers: Identifier[]): string[] {
    const keys = identifiers.flatMap((i) =>
      i.type === PREVIOUS_ID
        ? [
            identifierLockKey(workspaceId, 'user_id', i.value),
            identifierLockKey(workspaceId, 'anonymous_id', i.value),
          ]
        : [identifierLockKey(workspaceId, i.type, i.value)],
    );
    return [...new Set(keys)].sort();
  }

  /**
   * Resolves a batch of calls in the caller's transaction with a handful of statements whatever
   * its size: every identifier lock in one statement (sorted, so batches cannot deadlock on them),
   * one read of the known identities, the owners locked, then per connected group either set-wise
   * (a new customer, or the one customer that already owns the group's identifiers) or, where a
   * merge, a refusal or a split is possible, {@link resolve} call by call in batch order.
   *
   * The set-wise part is plain SQL (`sql`); call-by-call resolution needs the same transaction as
   * a Prisma one (`callByCall`). Without it, a batch that needs it rejects with
   * {@link CallByCallNeeded} before writing anything, and the caller runs it again with one.
   */
  async resolveMany(
    sql: Sql,
    requests: readonly ResolveRequest[],
    callByCall?: Tx,
  ): Promise<BatchResolution> {
    if (!requests.length) return { customerIds: [], customers: new Map(), sequential: 0 };
    await advisoryLocks(
      sql,
      [...new Set(requests.flatMap((r) => this.lockKeys(r.workspaceId, r.identifiers)))].sort(),
    );
    // Under the locks an erasure takes too: a call of a person erased meanwhile is seen suppressed.
    const suppressed = await this.suppressions.suppressedAmong(sql, requests);
    if (!suppressed.size) return this.resolveLocked(sql, requests, callByCall);
    const resolution = await this.resolveLocked(
      sql,
      requests.filter((_, i) => !suppressed.has(i)),
      callByCall,
    );
    const resolved = resolution.customerIds.values();
    return {
      ...resolution,
      customerIds: requests.map((_, i) => (suppressed.has(i) ? null : resolved.next().value!)),
    };
  }

  /** {@link resolveMany} once the identifiers are locked and the suppressed calls left out. */
  private async resolveLocked(
    sql: Sql,
    requests: readonly ResolveRequest[],
    callByCall?: Tx,
  ): Promise<BatchResolution & { customerIds: string[] }> {
    if (!requests.length) return { customerIds: [], customers: new Map(), sequential: 0 };
    const workspaces = [...new Set(requests.map((r) => r.workspaceId))];
    const books = new Map<string, RuleBook>();
    for (const workspaceId of workspaces) books.set(workspaceId, await this.rules.ruleBook(workspaceId, sql));

    // Owners can change while this waits for their locks (a merge moves identities): re-read until stable.
    const lockedCustomers = new Set<string>();
    let known = await this.knownInBatch(sql, requests);
    for (let round = 0; round < MAX_LOCK_ROUNDS; round++) {
      const owners = known.filter((k) => !lockedCustomers.has(k.customerId));
      if (!owners.length) break;
      // Customers of different workspaces never share a lock: their order between workspaces is free.
      for (const workspaceId of [...new Set(owners.map((k) => k.workspaceId))].sort())
        await this.merges.lockCustomers(
          sql,
          workspaceId,
          owners.filter((k) => k.workspaceId === workspaceId).map((k) => k.customerId),
        );
      owners.forEach((k) => lockedCustomers.add(k.customerId));
      known = await this.knownInBatch(sql, requests);
    }
    const groups = groupBatch(requests, known);
    const counted = groups
      .filter((g) => needsLimitCounts(g, books.get(g.workspaceId)))
      .map((g) => g.customers[0]!);
    const counts = await this.limitCounts(sql, counted, books);
    const plans = groups.map((group) => planGroup(group, books, counts));
    if (!callByCall && plans.some((plan) => plan.kind === 'sequential')) throw new CallByCallNeeded();

    const customerIds = new Array<string>(requests.length);
    const resolved = new Map<string, ResolvedCustomer>();
    const newCustomers: NewCustomerRow[] = [];
    const identities: NewIdentityRow[] = [];
    const seen = new Map<string, Date>();
    const sequential: number[] = [];
    for (const plan of plans) {
      if (plan.kind === 'sequential') {
        sequential.push(...plan.requests);
        continue;
      }
      const times = plan.requests.map((i) => requests[i]!.seenAt.getTime());
      const last = new Date(Math.max(...times));
      const customerId = plan.kind === 'existing' ? plan.customerId : randomUUID();
      if (plan.kind === 'new') {
        const customerCode = newCustomerCode();
        newCustomers.push({
          id: customerId,
          workspaceId: plan.workspaceId,
          customerCode,
          firstSeenAt: new Date(Math.min(...times)),
          lastSeenAt: last,
        });
        resolved.set(customerId, { id: customerId, customerCode, traits: {}, traitTimestamps: {} });
      } else seen.set(customerId, last);
      for (const i of plan.requests) customerIds[i] = customerId;
      for (const i of plan.fresh) {
        const request = requests[i.request]!;
        identities.push({
          workspaceId: plan.workspaceId,
          customerId,
          type: i.type,
          value: i.value,
          sourceId: request.sourceId ?? null,
          seenAt: request.seenAt,
        });
      }
    }
    await insertCustomers(sql, newCustomers);
    await insertIdentities(sql, identities);
    if (seen.size) {
      const ids = [...seen.keys()];
      // Also reads what the caller needs of them, in the same round trip.
      const touched = await sql.query<ResolvedCustomer>(
        `UPDATE customers c SET last_seen_at = greatest(c.last_seen_at, v.seen)
        FROM unnest($1::text[], $2::timestamptz[]) AS v(id, seen)
        WHERE c.id = v.id
        RETURNING c.id, c.customer_code AS "customerCode", c.traits, c.trait_timestamps AS "traitTimestamps"`,
        [ids, ids.map((id) => seen.get(id)!.toISOString())],
      );
      for (const customer of touched) resolved.set(customer.id, customer);
    }
    if (sequential.length && callByCall) {
      sequential.sort((a, b) => a - b);
      for (const i of sequential) {
        const r = requests[i]!;
        const customer = await this.resolve(callByCall, r.workspaceId, r.identifiers, r.sourceId, r.seenAt, {
          ...(r.messageId && { messageId: r.messageId }),
        });
        customerIds[i] = customer.id;
      }
      // In batch order, a later call may have merged the customer an earlier one resolved to.
      const live = await this.liveCustomers(
        callByCall,
        sequential.map((i) => customerIds[i]!),
      );
      for (const i of sequential) {
        const customer = live.get(customerIds[i]!)!;
        customerIds[i] = customer.id;
        resolved.set(customer.id, customer);
      }
    }
    return { customerIds, customers: resolved, sequential: sequential.length };
  }

  /** The identities among the batch's concrete identifiers (alias previousIds are resolved one by one). */
  private async knownInBatch(sql: Sql, requests: readonly ResolveRequest[]): Promise<KnownIdentity[]> {
    const keys = requests.flatMap((r) =>
      r.identifiers
        .filter((i) => i.type !== PREVIOUS_ID)
        .map((i) => [r.workspaceId, i.type, i.value] as const),
    );
    if (!keys.length) return [];
    // One unique-index probe per key. A plain join with unnest() was planned as a hash join over a
    // sequential scan of the whole table (the planner expects 100 keys), read again by every batch;
    // LIMIT 1 keeps the subquery a nested loop of index probes.
    return sql.query<KnownIdentity>(
      `SELECT i.workspace_id AS "workspaceId", i.type, i.value, i.customer_id AS "customerId"
      FROM unnest($1::text[], $2::text[], $3::text[]) AS k(workspace_id, type, value)
      CROSS JOIN LATERAL (
        SELECT * FROM identities i
        WHERE i.workspace_id = k.workspace_id AND i.type = k.type AND i.value = k.value LIMIT 1
      ) i`,
      [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2])],
    );
  }

  /** Identities per customer and limit scope, for the scopes that have a limit. */
  private async limitCounts(
    sql: Sql,
    customerIds: string[],
    books: ReadonlyMap<string, RuleBook>,
  ): Promise<LimitCounts> {
    const counts: LimitCounts = new Map();
    const limited = [
      ...new Set(
        [...books.values()].flatMap((b) =>
          b.rules.filter((r) => r.maxPerCustomer !== null).map((r) => r.type),
        ),
      ),
    ];
    if (!customerIds.length || !limited.length) return counts;
    const rows = await sql.query<{ workspaceId: string; customerId: string; type: string; value: string }>(
      `SELECT workspace_id AS "workspaceId", customer_id AS "customerId", type, value FROM identities
      WHERE customer_id = ANY($1::text[]) AND type = ANY($2::text[])`,
      [customerIds, limited],
    );
    for (const row of rows) {
      const book = books.get(row.workspaceId)!;
      const scope = book.limitScope(row.type, row.value);
      if (book.limitOf(scope) === null) continue;
      const perCustomer = counts.get(row.customerId) ?? new Map<string, number>();
      perCustomer.set(scope, (perCustomer.get(scope) ?? 0) + 1);
      counts.set(row.customerId, perCustomer);
    }
    return counts;
  }

  /** The customers (by the ids given), each followed to the live customer it was merged into. */
  private async liveCustomers(tx: Tx, ids: string[]): Promise<Map<string, Customer>> {
    const byId = new Map<string, Customer>();
    let pending = [...new Set(ids)];
    for (let depth = 0; pending.length && depth < MAX_LOCK_ROUNDS * 4; depth++) {
      const rows = await tx.customer.findMany({ where: { id: { in: pending } } });
      for (const row of rows) byId.set(row.id, row);
      pending = [
        ...new Set(rows.map((r) => r.mergedIntoId).filter((id): id is string => !!id && !byId.has(id))),
      ];
    }
    const live = new Map<string, Customer>();
    for (const id of new Set(ids)) {
      let customer = byId.get(id);
      while (customer?.mergedIntoId) customer = byId.get(customer.mergedIntoId);
      if (!customer) throw new Error(`customer ${id} resolved in this batch cannot be found`);
      live.set(id, customer);
    }
    return live;
  }

  async resolve(
    tx: Tx,
    workspaceId: string,
    identifiers: Identifier[],
    sourceId: string | undefined,
    seenAt: Date,
    options: ResolveOptions = {},
  ): Promise<Customer> {
    const book = await this.rules.ruleBook(workspaceId, prismaSql(tx));
    const concrete = identifiers.filter((i) => i.type !== PREVIOUS_ID);
    const previous = identifiers.filter((i) => i.type === PREVIOUS_ID).map((i) => i.value);
    await advisoryLocks(prismaSql(tx), this.lockKeys(workspaceId, identifiers));

    const locked = new Set<string>();
    let known = await this.knownIdentities(tx, workspaceId, concrete, previous);
    for (let round = 0; round < MAX_LOCK_ROUNDS; round++) {
      const owners = [...new Set(known.map((k) => k.customerId))].filter((id) => !locked.has(id));
      if (!owners.length) break;
      await this.merges.lockCustomers(prismaSql(tx), workspaceId, owners);
      owners.forEach((id) => locked.add(id));
      known = await this.knownIdentities(tx, workspaceId, concrete, previous);
    }

    const links = linksOf(known, previous);
    let survivor: Customer;
    const counts = new Map<string, number>();
    if (!links.length) {
      survivor = await tx.customer.create({
        data: {
          workspaceId,
          customerCode: newCustomerCode(),
          lifecycleStage: 'potential',
          firstSeenAt: seenAt,
          lastSeenAt: seenAt,
        },
      });
    } else {
      const candidates = await tx.customer.findMany({
        where: { id: { in: links.map((l) => l.customerId) } },
      });
      const byId = new Map(candidates.map((c) => [c.id, c]));
      links.sort(
        (a, b) =>
          bestPriority(a, book) - bestPriority(b, book) ||
          byId.get(a.customerId)!.firstSeenAt.getTime() - byId.get(b.customerId)!.firstSeenAt.getTime(),
      );
      survivor = byId.get(links[0]!.customerId)!;
      const allCounts = await this.limitCounts(
        prismaSql(tx),
        links.map((l) => l.customerId),
        new Map([[workspaceId, book]]),
      );
      for (const [scope, n] of allCounts.get(survivor.id) ?? []) counts.set(scope, n);
      for (const link of links.slice(1)) {
        const other = byId.get(link.customerId)!;
        const mergeableTypes = [...link.types].filter((t) => book.rule(t).mergeable);
        const linkType = link.alias
          ? 'alias'
          : mergeableTypes.sort((a, b) => book.priority(a) - book.priority(b))[0];
        if (!linkType) {
          await this.recordConflict(
            tx,
            workspaceId,
            survivor.id,
            other.id,
            [...link.types][0]!,
            null,
            options,
          );
          continue;
        }
        const theirs = allCounts.get(other.id) ?? new Map<string, number>();
        // Report the most trusted type whose limit the merge would break.
        const exceeded = [...theirs]
          .filter(([scope, n]) => {
            const max = book.limitOf(scope);
            return max !== null && (counts.get(scope) ?? 0) + n > max;
          })
          .map(([scope]) => scope.split('\u0000')[0]!)
          .sort((x, y) => book.priority(x) - book.priority(y))[0];
        if (exceeded) {
          await this.recordConflict(tx, workspaceId, survivor.id, other.id, linkType, exceeded, options);
          continue;
        }
        const fresh = await tx.customer.findUniqueOrThrow({ where: { id: survivor.id } });
        await this.merges.merge(tx, {
          workspaceId,
          survivor: fresh,
          merged: other,
          reason: link.alias ? 'alias' : 'shared_identifier',
          identifierType: link.alias ? 'user_id' : linkType,
          actor: options.messageId ? `ingest:${options.messageId}` : 'ingest',
        });
        for (const [scope, n] of theirs) counts.set(scope, (counts.get(scope) ?? 0) + n);
      }
    }

    const owned = new Set(known.map((k) => `${k.type}\u0000${k.value}`));
    const previousOwned = new Set(known.filter((k) => previous.includes(k.value)).map((k) => k.value));
    const fresh = [
      ...concrete.filter((i) => !owned.has(`${i.type}\u0000${i.value}`)),
      ...previous.filter((v) => !previousOwned.has(v)).map((value) => ({ type: 'anonymous_id', value })),
    ];
    const overLimit = (identifier: Identifier, tally: Map<string, number>) => {
      const max = book.limitOf(book.limitScope(identifier.type, identifier.value));
      return max !== null && (tally.get(book.limitScope(identifier.type, identifier.value)) ?? 0) + 1 > max;
    };
    // Linked only through a device (anonymous or device id), a call with a person identifier the
    // survivor cannot take (a second user_id on a shared device) is someone else: a new customer.
    const deviceOnly = links.every((l) => [...l.types].every((t) => DEVICE_TYPES.has(t)));
    if (
      links.length &&
      !links.some((l) => l.alias) &&
      deviceOnly &&
      fresh.some((i) => overLimit(i, counts))
    ) {
      survivor = await tx.customer.create({
        data: {
          workspaceId,
          customerCode: newCustomerCode(),
          lifecycleStage: 'potential',
          firstSeenAt: seenAt,
          lastSeenAt: seenAt,
        },
      });
      counts.clear();
    }
    const accepted: Identifier[] = [];
    for (const identifier of fresh) {
      const scope = book.limitScope(identifier.type, identifier.value);
      if (overLimit(identifier, counts)) {
        await this.recordConflict(
          tx,
          workspaceId,
          survivor.id,
          null,
          identifier.type,
          identifier.type,
          options,
        );
        continue;
      }
      counts.set(scope, (counts.get(scope) ?? 0) + 1);
      accepted.push(identifier);
    }
    if (accepted.length)
      await tx.identity.createMany({
        data: accepted.map((i) => ({
          workspaceId,
          customerId: survivor.id,
          type: i.type,
          value: i.value,
          sourceId,
          firstSeenAt: seenAt,
          lastSeenAt: seenAt,
        })),
        skipDuplicates: true,
      });
    const current = await tx.customer.findUniqueOrThrow({ where: { id: survivor.id } });
    return current.lastSeenAt >= seenAt
      ? current
      : tx.customer.update({ where: { id: survivor.id }, data: { lastSeenAt: seenAt } });
  }

  private knownIdentities(tx: Tx, workspaceId: string, concrete: Identifier[], previous: string[]) {
    const or = [
      ...concrete.map((i) => ({ type: i.type, value: i.value })),
      ...(previous.length ? [{ type: { in: ['user_id', 'anonymous_id'] }, value: { in: previous } }] : []),
    ];
    if (!or.length) return Promise.resolve([]);
    return tx.identity.findMany({
      where: { workspaceId, OR: or },
      select: { type: true, value: true, customerId: true },
    });
  }

  private async recordConflict(
    tx: Tx,
    workspaceId: string,
    customerId: string,
    otherCustomerId: string | null,
    linkType: string,
    limitedType: string | null,
    options: ResolveOptions,
  ): Promise<void> {
    const conflict = {
      workspaceId,
      customerId,
      otherCustomerId,
      linkType,
      limitedType,
      reason: limitedType ? 'limit' : 'not_mergeable',
    };
    // Every later call linking the same customers meets the same refusal: record it once.
    if (await tx.identityConflict.findFirst({ where: conflict, select: { id: true } })) return;
    await tx.identityConflict.create({ data: { ...conflict, messageId: options.messageId ?? null } });
  }
}

/** Customers the call's identifiers point at, with the identifier types that link each. */
function linksOf(
  known: Array<{ type: string; value: string; customerId: string }>,
  previous: string[],
): Link[] {
  const links = new Map<string, Link>();
  for (const k of known) {
    const link = links.get(k.customerId) ?? {
      customerId: k.customerId,
      types: new Set<string>(),
      alias: false,
    };
    // A previousId that matches an existing user or anonymous id links its owner by alias.
    const viaPrevious = previous.includes(k.value) && (k.type === 'user_id' || k.type === 'anonymous_id');
    if (viaPrevious) link.alias = true;
    else link.types.add(k.type);
    links.set(k.customerId, link);
  }
  return [...links.values()];
}

/** Identifiers of a device or browser, not of a person. */
const DEVICE_TYPES = new Set(['anonymous_id', 'device_id']);

function bestPriority(link: Link, book: RuleBook): number {
  const priorities = [...link.types].map((t) => book.priority(t));
  return Math.min(...priorities, link.alias && !priorities.length ? Number.MAX_SAFE_INTEGER : 1000);
}
