import { GoneException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { prismaSql, type Sql } from '@cdp/db';
import { DatabaseService, keysetPage, olderThanCursor, SERVICE_CONFIG } from '@cdp/service-kit';
import { advisoryLocks } from '../merges/advisory-locks';
import { MergeService } from '../merges/merge.service';
import { identifierLockKey, PREVIOUS_ID, type Identifier } from './identifiers';
import { WorkspaceHmac } from './national-id';
import { RestrictionAnnouncer } from './restriction-announcer';

/** A suppression as the API shows it (never the identifier: only its type). */
export interface SuppressionView {
  id: string;
  type: string;
  customerCode: string;
  actor: string;
  createdAt: Date;
}

interface SuppressedKey {
  workspaceId: string;
  type: string;
  valueHash: string;
}

/**
 * The suppression list: identifiers of people erased with suppression (or suppressed without
 * erasure), kept as keyed hashes, whose tracking calls identity resolution refuses to store.
 * Checked under the identifier locks that the erasure also takes, so a call still queued when its
 * person is erased is dropped, not stored as a new customer.
 */
@Injectable()
export class SuppressionService {
  private readonly hmac: WorkspaceHmac;

  constructor(
    private readonly db: DatabaseService,
    private readonly merges: MergeService,
    private readonly announcer: RestrictionAnnouncer,
    @Inject(SERVICE_CONFIG) config: { NATIONAL_ID_HMAC_SECRET: string },
  ) {
    this.hmac = new WorkspaceHmac(config.NATIONAL_ID_HMAC_SECRET, 'cdp-suppression');
  }

  /** Suppresses a customer's identifiers in the caller's transaction (an erasure's); returns how many were new. */
  async suppressIn(
    sql: Sql,
    workspaceId: string,
    identifiers: readonly Identifier[],
    customerCode: string,
    actor: string,
  ): Promise<number> {
    if (!identifiers.length) return 0;
    const inserted = await sql.query<{ id: string }>(
      `INSERT INTO suppressed_identifiers (id, workspace_id, type, value_hash, customer_code, actor)
      SELECT gen_random_uuid()::text, $1, type, value_hash, $4, $5
      FROM unnest($2::text[], $3::text[]) AS v(type, value_hash)
      ON CONFLICT (workspace_id, type, value_hash) DO NOTHING
      RETURNING id`,
      [
        workspaceId,
        identifiers.map((i) => i.type),
        identifiers.map((i) => this.hmac.hash(workspaceId, i.value)),
        customerCode,
        actor,
      ],
    );
    return inserted.length;
  }

  /**
   * The indexes of the calls that carry a suppressed identifier (an alias's previousId counts as
   * the user id or anonymous id it names). Run it under the calls' identifier locks.
   */
  async suppressedAmong(
    sql: Sql,
    calls: readonly { workspaceId: string; identifiers: readonly Identifier[] }[],
  ): Promise<Set<number>> {
    // Most workspaces suppress no one: one probe spares hashing every identifier of the batch.
    const workspaces = await sql.query<{ workspaceId: string }>(
      `SELECT w AS "workspaceId" FROM unnest($1::text[]) AS w
      WHERE EXISTS (SELECT 1 FROM suppressed_identifiers s WHERE s.workspace_id = w)`,
      [[...new Set(calls.map((c) => c.workspaceId))]],
    );
    if (!workspaces.length) return new Set();
    const suppressing = new Set(workspaces.map((w) => w.workspaceId));
    const keysOfCall = calls.map((call) =>
      (suppressing.has(call.workspaceId) ? call.identifiers : []).flatMap((i) => {
        const valueHash = this.hmac.hash(call.workspaceId, i.value);
        const types = i.type === PREVIOUS_ID ? ['user_id', 'anonymous_id'] : [i.type];
        return types.map((type) => ({ workspaceId: call.workspaceId, type, valueHash }));
      }),
    );
    const keys = keysOfCall.flat();
    if (!keys.length) return new Set();
    const found = await sql.query<SuppressedKey>(
      `SELECT k.workspace_id AS "workspaceId", k.type, k.value_hash AS "valueHash"
      FROM unnest($1::text[], $2::text[], $3::text[]) AS k(workspace_id, type, value_hash)
      WHERE EXISTS (
        SELECT 1 FROM suppressed_identifiers s
        WHERE s.workspace_id = k.workspace_id AND s.type = k.type AND s.value_hash = k.value_hash
      )`,
      [keys.map((k) => k.workspaceId), keys.map((k) => k.type), keys.map((k) => k.valueHash)],
    );
    if (!found.length) return new Set();
    const suppressed = new Set(found.map(keyOf));
    const indexes = new Set<number>();
    keysOfCall.forEach((callKeys, i) => {
      if (callKeys.some((k) => suppressed.has(keyOf(k)))) indexes.add(i);
    });
    return indexes;
  }

  /**
   * Stops collecting a live customer's tracking calls without erasing them (Segment's "suppress
   * only"): their identifiers, and those of every profile merged into them, go on the list under
   * the identifier locks ingest takes. 404 for an unknown customer, 410 for an erased one.
   */
  async suppressCustomer(workspaceId: string, customerId: string, actor: string) {
    const result = await this.db.client.$transaction(async (tx) => {
      const survivor = await this.merges.survivorOf(tx, workspaceId, customerId);
      if (!survivor) throw new NotFoundException(`Customer ${customerId} not found`);
      if (survivor.erasedAt) throw new GoneException(`Customer ${customerId} was erased`);
      const family = await this.merges.mergedFamily(tx, survivor.id);
      const identitiesOfFamily = () =>
        tx.identity.findMany({
          where: { workspaceId, customerId: { in: family } },
          select: { type: true, value: true },
        });
      const sql = prismaSql(tx);
      await advisoryLocks(
        sql,
        [
          ...new Set(
            (await identitiesOfFamily()).map((i) => identifierLockKey(workspaceId, i.type, i.value)),
          ),
        ].sort(),
      );
      // Read again under the locks: a batch that held one of them may have linked a new identifier
      // to the customer (it had to match one of theirs, so it held that lock) and committed since.
      const identities = await identitiesOfFamily();
      const { customerCode } = await tx.customer.findUniqueOrThrow({
        where: { id: survivor.id },
        select: { customerCode: true },
      });
      const suppressed = await this.suppressIn(sql, workspaceId, identities, customerCode, actor);
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'customer.suppressed',
          entityType: 'Customer',
          entityId: survivor.id,
          before: {},
          after: { suppressed, identifierTypes: [...new Set(identities.map((i) => i.type))].sort() },
        },
      });
      // Other services stop using their copies (ad audiences) on cdp.customer.restricted.
      await tx.customerRestriction.create({
        data: { workspaceId, customerId: survivor.id, customerCode, restricted: true, actor },
      });
      return { customerId: survivor.id, customerCode, suppressed };
    });
    await this.announcer.announcePending().catch(() => undefined);
    return result;
  }

  /**
   * Whether a live customer's processing is restricted: they were suppressed without erasure, so
   * their calls are not collected and senders must leave them out until the suppression is lifted.
   */
  async restricts(workspaceId: string, customerCode: string): Promise<boolean> {
    const row = await this.db.client.suppressedIdentifier.findFirst({
      where: { workspaceId, customerCode },
      select: { id: true },
    });
    return row !== null;
  }

  /** A page of the workspace's suppressions, newest first, optionally of one customer (by code). */
  async list(
    workspaceId: string,
    query: { customerCode?: string; limit: number; cursor?: string },
  ): Promise<{ suppressions: SuppressionView[]; nextCursor: string | null }> {
    const rows = await this.db.client.suppressedIdentifier.findMany({
      where: {
        workspaceId,
        ...(query.customerCode !== undefined && { customerCode: query.customerCode }),
        ...olderThanCursor('createdAt', query.cursor),
      },
      select: { id: true, type: true, customerCode: true, actor: true, createdAt: true },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit + 1,
    });
    const page = keysetPage(rows, query.limit, (r) => r.createdAt);
    return { suppressions: page.rows, nextCursor: page.nextCursor };
  }

  /**
   * Lifts suppressions (one by id, or every one of a customer code), audited: the identifiers'
   * calls are stored again from now on (an erased person's as a new customer).
   */
  async lift(
    workspaceId: string,
    which: { id: string } | { customerCode: string },
    actor: string,
  ): Promise<{ lifted: number }> {
    const result = await this.db.client.$transaction(async (tx) => {
      const where = { workspaceId, ...which };
      const rows = await tx.suppressedIdentifier.findMany({
        where,
        select: { id: true, type: true, customerCode: true },
      });
      if (!rows.length)
        throw new NotFoundException(
          'id' in which
            ? `Suppression ${which.id} not found`
            : `No suppression for customer code ${which.customerCode}`,
        );
      await tx.suppressedIdentifier.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
      // A live customer with nothing left on the list is no longer restricted (an erased one stays erased).
      for (const customerCode of new Set(rows.map((r) => r.customerCode))) {
        const left = await tx.suppressedIdentifier.count({ where: { workspaceId, customerCode } });
        const live = await tx.customer.findFirst({
          where: { workspaceId, customerCode, erasedAt: null, mergedIntoId: null },
          select: { id: true },
        });
        if (!left && live)
          await tx.customerRestriction.create({
            data: { workspaceId, customerId: live.id, customerCode, restricted: false, actor },
          });
      }
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'suppression.lifted',
          entityType: 'SuppressedIdentifier',
          entityId: 'id' in which ? which.id : which.customerCode,
          before: { suppressions: rows.map((r) => ({ id: r.id, type: r.type })) },
          after: {},
        },
      });
      return { lifted: rows.length };
    });
    await this.announcer.announcePending().catch(() => undefined);
    return result;
  }
}

function keyOf(k: SuppressedKey): string {
  return `${k.workspaceId}\n${k.type}\n${k.valueHash}`;
}
