import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Subjects, type CustomerValueParametersRequest, type PayloadOf } from '@cdp/contracts';
import type { Sql } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, queueOptions, ScheduledJobs, SERVICE_CONFIG, TtlCache } from '@cdp/service-kit';
import type { AnalysisConfig } from '../config';
import { eventTime } from '../event-time';
import {
  addEvent,
  combine,
  CUSTOMER_VALUE_MODEL,
  CUSTOMER_VALUE_VERSION,
  customerValue,
  signedRevenueOf,
  type Activity,
  type CustomerValueParameters,
} from './customer-value';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;
type Merged = PayloadOf<typeof Subjects.identityMerged>;
type Unmerged = PayloadOf<typeof Subjects.identityUnmerged>;

const HOUR_MS = 3_600_000;
const PARAMETERS_CACHE_MS = 1000;
/** How long a counted event is remembered, so a redelivery of it is not counted again. */
const SCORED_EVENT_RETENTION_DAYS = 7;
const PRUNE_SCORED_EVENTS = 'prune-scored-events';
/** Merges followed from a merged customer to the live one (a survivor merged in turn, ...). */
const MAX_MERGE_HOPS = 10;
const RESCORE = 'rescore-customer-value';
/** Scores not computed for this long are computed again (their activity has decayed meanwhile). */
const RESCORE_AFTER_MS = 24 * HOUR_MS;
/** Customers re-scored per run (hourly, on one replica): ~480,000 a day. */
const RESCORE_BATCH = 20_000;

interface ActivityRow extends Activity {
  customerId: string;
  workspaceId: string;
  endedByMerge: string | null;
  mergedInto: string | null;
}

/** A customer's activity to save and score, and what changed it (in the announcement's Nats-Msg-Id). */
interface ScoreChange {
  workspaceId: string;
  customerId: string;
  activity: Activity;
  cause: string;
}

const ACTIVITY_COLUMNS = `customer_id AS "customerId", workspace_id AS "workspaceId", events, revenue,
  as_of AS "asOf", ended_by_merge AS "endedByMerge", merged_into AS "mergedInto"`;

/**
 * The `customer_value` score of every customer (see customer-value.ts), kept up to date from
 * cdp.event.ingested and following merges, and announced on cdp.score.updated when it changes.
 * Each change runs in one transaction under the customer's activity row lock; the announcement
 * goes out before the commit with a Nats-Msg-Id tied to its cause, so a redelivery after a crash
 * publishes it again (deduplicated by JetStream) and no change is lost or announced twice.
 */
@Injectable()
export class ScoresService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ScoresService.name);
  /** The deployment's parameters (CUSTOMER_VALUE_*), for workspaces that set none of their own. */
  private readonly defaults: CustomerValueParameters;
  /** Each workspace's parameters, read at most once a second (set through another replica: within it). */
  private readonly parametersCache = new TtlCache<CustomerValueParameters>(PARAMETERS_CACHE_MS);
  private readonly jobs: ScheduledJobs;

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: AnalysisConfig,
  ) {
    this.defaults = {
      halfLifeDays: config.CUSTOMER_VALUE_HALF_LIFE_DAYS,
      eventsMidpoint: config.CUSTOMER_VALUE_EVENTS_MIDPOINT,
      revenueMidpoint: config.CUSTOMER_VALUE_REVENUE_MIDPOINT,
    };
    this.jobs = new ScheduledJobs('analysis-maintenance', queueOptions(config));
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    await this.jobs.start(
      [
        { name: PRUNE_SCORED_EVENTS, everyMs: HOUR_MS },
        { name: RESCORE, everyMs: HOUR_MS },
      ],
      (job) => (job === RESCORE ? this.rescoreStale() : this.pruneScoredEvents()),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }

  /** The workspace's customer_value parameters: its own, or the deployment's. */
  async parameters(
    workspaceId: string,
  ): Promise<CustomerValueParameters & { source: 'workspace' | 'deployment' }> {
    const own = await this.db.client.scoreParameters.findUnique({ where: { workspaceId } });
    return own
      ? {
          halfLifeDays: own.halfLifeDays,
          eventsMidpoint: own.eventsMidpoint,
          revenueMidpoint: own.revenueMidpoint,
          source: 'workspace',
        }
      : { ...this.defaults, source: 'deployment' };
  }

  /**
   * Sets the workspace's parameters. The decayed sums already stored stay as they are (a new
   * half-life applies from now on); every customer_value of the workspace is marked for the
   * re-scoring, which computes it with the new parameters (RESCORE_BATCH an hour, oldest first).
   */
  async setParameters(workspaceId: string, request: CustomerValueParametersRequest, updatedBy: string) {
    await this.db.client.$transaction([
      this.db.client.scoreParameters.upsert({
        where: { workspaceId },
        create: { workspaceId, ...request, updatedBy },
        update: { ...request, updatedBy },
      }),
      this.db.client.score.updateMany({
        where: { workspaceId, model: CUSTOMER_VALUE_MODEL },
        data: { computedAt: new Date(0) },
      }),
    ]);
    this.parametersCache.delete(workspaceId);
    return this.parameters(workspaceId);
  }

  /** The parameters of each of these workspaces (cached). */
  private async parametersOf(workspaceIds: Iterable<string>): Promise<Map<string, CustomerValueParameters>> {
    const out = new Map<string, CustomerValueParameters>();
    for (const ws of new Set(workspaceIds))
      out.set(ws, await this.parametersCache.get(ws, () => this.parameters(ws)));
    return out;
  }

  /** A customer's scores (only `customer_value` is computed here; other models can write the table too). */
  async scoresOf(workspaceId: string, customerId: string) {
    const rows = await this.db.client.score.findMany({
      where: { workspaceId, customerId },
      orderBy: { model: 'asc' },
    });
    return {
      customerId,
      scores: rows.map((s) => ({
        model: s.model,
        modelVersion: s.modelVersion,
        value: s.value,
        computedAt: s.computedAt,
        explanation: s.explanation,
      })),
    };
  }

  /**
   * Counts stored events in their customers' activity, each once, in one transaction: the event
   * ids are recorded in it, and a redelivered event finds its id there. An event of a customer
   * merged away before it got here counts on that customer's frozen row (given back by an
   * unmerge) and on every survivor down the chain of merges, and the live one is scored: once per
   * customer and batch, whatever the number of their events in it.
   * @returns the live customer each event belongs to now (its own, or its survivor's), in order.
   */
  async onEventsIngested(events: readonly Ingested[]): Promise<string[]> {
    const parameters = await this.parametersOf(events.map((e) => e.workspaceId));
    return this.db.transaction(async (sql) => {
      // In id order: two batches holding one redelivered event wait for each other, not deadlock.
      const ids = [...new Map(events.map((e) => [e.eventId, e.workspaceId]))].sort(([a], [b]) =>
        BigInt(a) < BigInt(b) ? -1 : 1,
      );
      const uncounted = new Set(
        (
          await sql.query<{ id: string }>(
            `INSERT INTO scored_events (event_id, workspace_id)
            SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING RETURNING event_id::text AS id`,
            [ids.map(([id]) => id), ids.map(([, ws]) => ws)],
          )
        ).map((r) => r.id),
      );
      const rows = await this.lockChains(
        sql,
        events.map((e) => ({ workspaceId: e.workspaceId, customerId: e.customerId, at: eventTime(e) })),
      );
      const changed = new Set<string>();
      const scored = new Map<string, { lastEventId: string; events: number }>();
      const live = events.map((event) => {
        const counts = uncounted.delete(event.eventId);
        const at = eventTime(event);
        const revenue = signedRevenueOf(event.name, event.properties);
        const { halfLifeDays } = parameters.get(event.workspaceId)!;
        const add = (customerId: string) => {
          const row = rows.get(customerId)!;
          const activity = addEvent(row, at, revenue, halfLifeDays);
          rows.set(customerId, { ...row, ...activity });
          changed.add(customerId);
        };
        let customerId = event.customerId;
        for (let hop = 0; rows.get(customerId)!.mergedInto && hop < MAX_MERGE_HOPS; hop++) {
          if (counts) add(customerId);
          customerId = rows.get(customerId)!.mergedInto!;
        }
        if (counts) {
          add(customerId);
          const seen = scored.get(customerId);
          scored.set(customerId, { lastEventId: event.eventId, events: (seen?.events ?? 0) + 1 });
        }
        return customerId;
      });
      // Frozen rows down a chain of merges keep the event for an unmerge; the live ones are scored.
      await this.saveActivities(
        sql,
        [...changed]
          .filter((id) => !scored.has(id))
          .map((id) => ({ customerId: id, activity: rows.get(id)! })),
      );
      await this.saveAndScore(
        sql,
        [...scored].map(([customerId, { lastEventId, events: n }]) => ({
          workspaceId: rows.get(customerId)!.workspaceId,
          customerId,
          activity: rows.get(customerId)!,
          // Tied to the events counted: a redelivery of the same batch announces under the same id.
          cause: `event:${lastEventId}${n > 1 ? `:${n}` : ''}`,
        })),
      );
      return live;
    });
  }

  /**
   * Merged customers are one person with the survivor: their activity is added into the
   * survivor's (their rows frozen, marked with the merge) and their own scores go. Idempotent: a
   * redelivery finds their rows marked already.
   */
  async onIdentityMerged(merged: Merged): Promise<void> {
    const at = new Date(merged.mergedAt);
    const { halfLifeDays } = (await this.parametersOf([merged.workspaceId])).get(merged.workspaceId)!;
    await this.db.transaction(async (sql) => {
      const rows = await this.lockActivities(sql, merged.mergedIds, null);
      // Merged customers with no activity yet get a frozen row too: it sends their late events on.
      const marked = await sql.execute(
        `INSERT INTO customer_activity (customer_id, workspace_id, as_of, ended_by_merge, merged_into)
        SELECT id, $2, $3, $4, $5 FROM unnest($1::text[]) AS id
        ON CONFLICT DO NOTHING`,
        [merged.mergedIds, merged.workspaceId, at, merged.mergeId, merged.survivorId],
      );
      if (!rows.length && !marked) return;
      let survivor: Activity = await this.lockActivity(sql, merged.workspaceId, merged.survivorId, at);
      for (const row of rows) survivor = combine(survivor, row, halfLifeDays);
      await sql.execute(
        'UPDATE customer_activity SET ended_by_merge = $2, merged_into = $3 WHERE customer_id = ANY($1::text[])',
        [rows.map((r) => r.customerId), merged.mergeId, merged.survivorId],
      );
      await sql.execute(
        'DELETE FROM scores WHERE workspace_id = $1 AND customer_id = ANY($2::text[]) AND model = $3',
        [merged.workspaceId, merged.mergedIds, CUSTOMER_VALUE_MODEL],
      );
      await this.saveAndScore(sql, [
        {
          workspaceId: merged.workspaceId,
          customerId: merged.survivorId,
          activity: survivor,
          cause: `merge:${merged.mergeId}`,
        },
      ]);
    });
  }

  /** An undone merge takes the restored customers' activity out of the survivor's and gives it back. */
  async onIdentityUnmerged(unmerged: Unmerged): Promise<void> {
    const cause = `unmerge:${unmerged.mergeId}`;
    const { halfLifeDays } = (await this.parametersOf([unmerged.workspaceId])).get(unmerged.workspaceId)!;
    await this.db.transaction(async (sql) => {
      const rows = await this.lockActivities(sql, unmerged.restoredIds, unmerged.mergeId);
      if (!rows.length) return;
      let survivor: Activity = await this.lockActivity(
        sql,
        unmerged.workspaceId,
        unmerged.survivorId,
        new Date(unmerged.unmergedAt),
      );
      for (const row of rows) survivor = combine(survivor, row, halfLifeDays, -1);
      await this.saveAndScore(sql, [
        { workspaceId: unmerged.workspaceId, customerId: unmerged.survivorId, activity: survivor, cause },
      ]);
      await sql.execute(
        'UPDATE customer_activity SET ended_by_merge = NULL, merged_into = NULL WHERE customer_id = ANY($1::text[])',
        [rows.map((r) => r.customerId)],
      );
      await this.saveAndScore(
        sql,
        rows.map((row) => ({
          workspaceId: unmerged.workspaceId,
          customerId: row.customerId,
          activity: row,
          cause,
        })),
      );
    });
  }

  /**
   * Scores are computed as of the moment their customer's activity changes; one of a customer who
   * stopped coming would stay as it was. Those computed more than a day ago are computed again as
   * of now (oldest first, at most RESCORE_BATCH a run), and announced when they changed. Customers
   * whose processing is restricted are left as they are (rescored once it is lifted).
   */
  async rescoreStale(now = new Date()): Promise<number> {
    const { rows: stale } = await this.db.pool.query<{ workspaceId: string; customerId: string }>(
      `SELECT s.workspace_id AS "workspaceId", s.customer_id AS "customerId" FROM scores s
      WHERE s.model = $1 AND s.computed_at < $2
        AND NOT EXISTS (SELECT 1 FROM restricted_customers r WHERE r.customer_id = s.customer_id AND r.restricted)
      ORDER BY s.computed_at LIMIT ${RESCORE_BATCH}`,
      [CUSTOMER_VALUE_MODEL, new Date(now.getTime() - RESCORE_AFTER_MS)],
    );
    for (const { workspaceId, customerId } of stale)
      await this.db.transaction(async (sql) => {
        const row = await this.lockActivity(sql, workspaceId, customerId, now);
        if (row.endedByMerge) return;
        await this.saveAndScore(
          sql,
          [{ workspaceId, customerId, activity: row, cause: `rescore:${now.toISOString()}` }],
          now,
        );
      });
    if (stale.length) this.logger.log(`re-scored ${stale.length} customer(s) not scored for a day`);
    return stale.length;
  }

  async pruneScoredEvents(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - SCORED_EVENT_RETENTION_DAYS * 24 * HOUR_MS);
    const { count } = await this.db.client.scoredEvent.deleteMany({ where: { scoredAt: { lt: before } } });
    if (count) this.logger.log(`pruned ${count} counted event id(s) older than ${before.toISOString()}`);
    return count;
  }

  /** The customer's activity row, created empty if they have none, locked until the commit. */
  private async lockActivity(sql: Sql, workspaceId: string, customerId: string, at: Date) {
    const [row] = await this.lockRows(sql, [{ workspaceId, customerId, at }]);
    return row!;
  }

  /** Activity rows, created empty for customers with none, locked until the commit in the order given. */
  private lockRows(sql: Sql, customers: readonly { workspaceId: string; customerId: string; at: Date }[]) {
    // DO UPDATE (a no-op) rather than DO NOTHING: it locks existing rows and returns them, in one round trip.
    return sql.query<ActivityRow>(
      `INSERT INTO customer_activity (customer_id, workspace_id, as_of)
      SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
      ON CONFLICT (customer_id) DO UPDATE SET customer_id = excluded.customer_id
      RETURNING ${ACTIVITY_COLUMNS}`,
      [customers.map((c) => c.customerId), customers.map((c) => c.workspaceId), customers.map((c) => c.at)],
    );
  }

  /** The existing activity rows of these customers frozen by `mergeId` (null: live ones), locked in id order. */
  private lockActivities(sql: Sql, customerIds: string[], mergeId: string | null) {
    return sql.query<ActivityRow>(
      `SELECT ${ACTIVITY_COLUMNS} FROM customer_activity
      WHERE customer_id = ANY($1::text[]) AND ended_by_merge IS NOT DISTINCT FROM $2::text
      ORDER BY customer_id FOR UPDATE`,
      [customerIds, mergeId],
    );
  }

  /**
   * The activity rows of these customers (created empty for those with none) and of the survivors
   * their merges lead to, locked until the commit: the first ones in id order, in one statement.
   */
  private async lockChains(
    sql: Sql,
    customers: readonly { workspaceId: string; customerId: string; at: Date }[],
  ): Promise<Map<string, ActivityRow>> {
    const rows = new Map<string, ActivityRow>();
    let wanted = [...new Map(customers.map((c) => [c.customerId, c])).values()];
    for (let hop = 0; wanted.length && hop <= MAX_MERGE_HOPS; hop++) {
      wanted.sort((a, b) => (a.customerId < b.customerId ? -1 : 1));
      const locked = await this.lockRows(sql, wanted);
      for (const row of locked) rows.set(row.customerId, row);
      const next = new Map<string, { workspaceId: string; customerId: string; at: Date }>();
      for (const row of locked)
        if (row.mergedInto && !rows.has(row.mergedInto))
          next.set(row.mergedInto, {
            workspaceId: row.workspaceId,
            customerId: row.mergedInto,
            at: row.asOf,
          });
      wanted = [...next.values()];
    }
    return rows;
  }

  /** Saves activities; returns each customer's current `customer_value`, if any (same round trip). */
  private async saveActivities(
    sql: Sql,
    saved: readonly { customerId: string; activity: Activity }[],
  ): Promise<Map<string, number | null>> {
    if (!saved.length) return new Map();
    const rows = await sql.query<{ customerId: string; previous: number | null }>(
      `UPDATE customer_activity a SET events = v.events, revenue = v.revenue, as_of = v.as_of, updated_at = now()
      FROM unnest($1::text[], $2::float8[], $3::float8[], $4::timestamptz[]) AS v(customer_id, events, revenue, as_of)
      WHERE a.customer_id = v.customer_id
      RETURNING a.customer_id AS "customerId", (SELECT value FROM scores s
        WHERE s.workspace_id = a.workspace_id AND s.customer_id = a.customer_id AND s.model = $5) AS previous`,
      [
        saved.map((s) => s.customerId),
        saved.map((s) => s.activity.events),
        saved.map((s) => s.activity.revenue),
        saved.map((s) => s.activity.asOf),
        CUSTOMER_VALUE_MODEL,
      ],
    );
    return new Map(rows.map((r) => [r.customerId, r.previous]));
  }

  /**
   * Saves the activities and the scores they give as of `now` (the time the values are read at;
   * an activity of events timestamped later is read as of them). Changed scores are announced
   * first; unchanged ones only record that they were computed.
   */
  private async saveAndScore(sql: Sql, changes: readonly ScoreChange[], now = new Date()): Promise<void> {
    if (!changes.length) return;
    const parameters = await this.parametersOf(changes.map((c) => c.workspaceId));
    const previous = await this.saveActivities(sql, changes);
    const computedAt = new Date();
    const scored = changes.map((change) => ({
      change,
      ...customerValue(change.activity, now, parameters.get(change.workspaceId)!),
    }));
    const announced = scored.filter((s) => previous.get(s.change.customerId) !== s.value);
    await this.publisher.publishMany(
      announced.map(({ change: { workspaceId, customerId, cause }, value }) => {
        const before = previous.get(customerId);
        return {
          subject: Subjects.scoreUpdated,
          payload: {
            workspaceId,
            customerId,
            model: CUSTOMER_VALUE_MODEL,
            modelVersion: CUSTOMER_VALUE_VERSION,
            value,
            ...(before !== null && before !== undefined && { previousValue: before }),
            computedAt: computedAt.toISOString(),
          },
          msgId: `score:${customerId}:${CUSTOMER_VALUE_MODEL}:${cause}`,
        };
      }),
    );
    await sql.execute(
      `INSERT INTO scores (id, workspace_id, customer_id, model, model_version, value, explanation, computed_at)
      SELECT gen_random_uuid(), v.workspace_id, v.customer_id, $1, $2, v.value, v.explanation::jsonb, $3
      FROM unnest($4::text[], $5::text[], $6::float8[], $7::text[]) AS v(workspace_id, customer_id, value, explanation)
      ON CONFLICT (workspace_id, customer_id, model) DO UPDATE SET model_version = excluded.model_version,
        value = excluded.value, explanation = excluded.explanation, computed_at = excluded.computed_at`,
      [
        CUSTOMER_VALUE_MODEL,
        CUSTOMER_VALUE_VERSION,
        computedAt,
        scored.map((s) => s.change.workspaceId),
        scored.map((s) => s.change.customerId),
        scored.map((s) => s.value),
        scored.map((s) => JSON.stringify(s.explanation)),
      ],
    );
  }
}
