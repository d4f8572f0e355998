import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import type { Sql } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, queueOptions, ScheduledJobs, SERVICE_CONFIG } from '@cdp/service-kit';
import type { AnalysisConfig } from '../config';
import {
  addEvent,
  combine,
  CUSTOMER_VALUE_MODEL,
  CUSTOMER_VALUE_VERSION,
  customerValue,
  revenueOf,
  type Activity,
  type CustomerValueParameters,
} from './customer-value';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;
type Merged = PayloadOf<typeof Subjects.identityMerged>;
type Unmerged = PayloadOf<typeof Subjects.identityUnmerged>;

const HOUR_MS = 3_600_000;
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
  endedByMerge: string | null;
  mergedInto: string | null;
}

const ACTIVITY_COLUMNS = `events, revenue, as_of AS "asOf", ended_by_merge AS "endedByMerge", merged_into AS "mergedInto"`;

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
  private readonly parameters: CustomerValueParameters;
  private readonly jobs: ScheduledJobs;

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: AnalysisConfig,
  ) {
    this.parameters = {
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
   * Counts a stored event in its customer's activity, once: the event id is recorded in the same
   * transaction, and a redelivered event finds it there. An event of a customer merged away before
   * it got here counts on that customer's frozen row (given back by an unmerge) and on every
   * survivor down the chain of merges, and the live one is scored.
   * @returns the live customer the event belongs to now (its own, or its survivor's).
   */
  async onEventIngested(event: Ingested): Promise<string> {
    const received = new Date(event.receivedAt);
    const occurred = new Date(event.occurredAt);
    // A client clock ahead of ours must not push the decay's reference time into the future.
    const at = occurred < received ? occurred : received;
    const revenue = revenueOf(event.properties);
    const add = (a: Activity) => addEvent(a, at, revenue, this.parameters.halfLifeDays);
    return this.db.transaction(async (sql) => {
      const counted = await sql.execute(
        'INSERT INTO scored_events (event_id, workspace_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [event.eventId, event.workspaceId],
      );
      let customerId = event.customerId;
      let row = await this.lockActivity(sql, event.workspaceId, customerId, at);
      for (let hop = 0; row.mergedInto && hop < MAX_MERGE_HOPS; hop++) {
        if (counted) await this.saveActivity(sql, customerId, add(row));
        customerId = row.mergedInto;
        row = await this.lockActivity(sql, event.workspaceId, customerId, at);
      }
      if (counted)
        await this.saveAndScore(sql, event.workspaceId, customerId, add(row), `event:${event.eventId}`);
      return customerId;
    });
  }

  /**
   * Merged customers are one person with the survivor: their activity is added into the
   * survivor's (their rows frozen, marked with the merge) and their own scores go. Idempotent: a
   * redelivery finds their rows marked already.
   */
  async onIdentityMerged(merged: Merged): Promise<void> {
    const at = new Date(merged.mergedAt);
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
      for (const row of rows) survivor = combine(survivor, row, this.parameters.halfLifeDays);
      await sql.execute(
        'UPDATE customer_activity SET ended_by_merge = $2, merged_into = $3 WHERE customer_id = ANY($1::text[])',
        [rows.map((r) => r.customerId), merged.mergeId, merged.survivorId],
      );
      await sql.execute(
        'DELETE FROM scores WHERE workspace_id = $1 AND customer_id = ANY($2::text[]) AND model = $3',
        [merged.workspaceId, merged.mergedIds, CUSTOMER_VALUE_MODEL],
      );
      await this.saveAndScore(
        sql,
        merged.workspaceId,
        merged.survivorId,
        survivor,
        `merge:${merged.mergeId}`,
      );
    });
  }

  /** An undone merge takes the restored customers' activity out of the survivor's and gives it back. */
  async onIdentityUnmerged(unmerged: Unmerged): Promise<void> {
    const cause = `unmerge:${unmerged.mergeId}`;
    await this.db.transaction(async (sql) => {
      const rows = await this.lockActivities(sql, unmerged.restoredIds, unmerged.mergeId);
      if (!rows.length) return;
      let survivor: Activity = await this.lockActivity(
        sql,
        unmerged.workspaceId,
        unmerged.survivorId,
        new Date(unmerged.unmergedAt),
      );
      for (const row of rows) survivor = combine(survivor, row, this.parameters.halfLifeDays, -1);
      await this.saveAndScore(sql, unmerged.workspaceId, unmerged.survivorId, survivor, cause);
      await sql.execute(
        'UPDATE customer_activity SET ended_by_merge = NULL, merged_into = NULL WHERE customer_id = ANY($1::text[])',
        [rows.map((r) => r.customerId)],
      );
      for (const row of rows) await this.saveAndScore(sql, unmerged.workspaceId, row.customerId, row, cause);
    });
  }

  /**
   * Scores are computed as of the moment their customer's activity changes; one of a customer who
   * stopped coming would stay as it was. Those computed more than a day ago are computed again as
   * of now (oldest first, at most RESCORE_BATCH a run), and announced when they changed.
   */
  async rescoreStale(now = new Date()): Promise<number> {
    const stale = await this.db.client.score.findMany({
      where: { model: CUSTOMER_VALUE_MODEL, computedAt: { lt: new Date(now.getTime() - RESCORE_AFTER_MS) } },
      select: { workspaceId: true, customerId: true },
      orderBy: { computedAt: 'asc' },
      take: RESCORE_BATCH,
    });
    for (const { workspaceId, customerId } of stale)
      await this.db.transaction(async (sql) => {
        const row = await this.lockActivity(sql, workspaceId, customerId, now);
        if (row.endedByMerge) return;
        await this.saveAndScore(sql, workspaceId, customerId, row, `rescore:${now.toISOString()}`, now);
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
  private async lockActivity(
    sql: Sql,
    workspaceId: string,
    customerId: string,
    at: Date,
  ): Promise<ActivityRow> {
    // DO UPDATE (a no-op) rather than DO NOTHING: it locks an existing row and returns it, in one round trip.
    const [row] = await sql.query<ActivityRow>(
      `INSERT INTO customer_activity (customer_id, workspace_id, as_of) VALUES ($1, $2, $3)
      ON CONFLICT (customer_id) DO UPDATE SET customer_id = excluded.customer_id
      RETURNING ${ACTIVITY_COLUMNS}`,
      [customerId, workspaceId, at],
    );
    return row!;
  }

  /** The existing activity rows of these customers frozen by `mergeId` (null: live ones), locked in id order. */
  private lockActivities(sql: Sql, customerIds: string[], mergeId: string | null) {
    return sql.query<ActivityRow & { customerId: string }>(
      `SELECT customer_id AS "customerId", ${ACTIVITY_COLUMNS} FROM customer_activity
      WHERE customer_id = ANY($1::text[]) AND ended_by_merge IS NOT DISTINCT FROM $2::text
      ORDER BY customer_id FOR UPDATE`,
      [customerIds, mergeId],
    );
  }

  /** Saves the activity; returns the customer's current `customer_value`, if any (same round trip). */
  private async saveActivity(sql: Sql, customerId: string, activity: Activity): Promise<number | null> {
    const [row] = await sql.query<{ previous: number | null }>(
      `UPDATE customer_activity a SET events = $2, revenue = $3, as_of = $4, updated_at = now()
      WHERE customer_id = $1
      RETURNING (SELECT value FROM scores s
        WHERE s.workspace_id = a.workspace_id AND s.customer_id = $1 AND s.model = $5) AS previous`,
      [customerId, activity.events, activity.revenue, activity.asOf, CUSTOMER_VALUE_MODEL],
    );
    return row?.previous ?? null;
  }

  /**
   * Saves the activity and the score it gives as of `now` (the time the value is read at; an
   * activity of events timestamped later is read as of them). A changed score is announced first;
   * an unchanged one only records that it was computed.
   */
  private async saveAndScore(
    sql: Sql,
    workspaceId: string,
    customerId: string,
    activity: Activity,
    cause: string,
    now = new Date(),
  ): Promise<void> {
    const previous = await this.saveActivity(sql, customerId, activity);
    const { value, explanation } = customerValue(activity, now, this.parameters);
    const computedAt = new Date();
    if (previous === value) {
      await sql.execute(
        `UPDATE scores SET explanation = $4, computed_at = $5
        WHERE workspace_id = $1 AND customer_id = $2 AND model = $3`,
        [workspaceId, customerId, CUSTOMER_VALUE_MODEL, JSON.stringify(explanation), computedAt],
      );
      return;
    }
    await this.publisher.publish(
      Subjects.scoreUpdated,
      {
        workspaceId,
        customerId,
        model: CUSTOMER_VALUE_MODEL,
        modelVersion: CUSTOMER_VALUE_VERSION,
        value,
        ...(previous !== null && { previousValue: previous }),
        computedAt: computedAt.toISOString(),
      },
      { msgId: `score:${customerId}:${CUSTOMER_VALUE_MODEL}:${cause}` },
    );
    await sql.execute(
      `INSERT INTO scores (id, workspace_id, customer_id, model, model_version, value, explanation, computed_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (workspace_id, customer_id, model) DO UPDATE SET model_version = excluded.model_version,
        value = excluded.value, explanation = excluded.explanation, computed_at = excluded.computed_at`,
      [
        randomUUID(),
        workspaceId,
        customerId,
        CUSTOMER_VALUE_MODEL,
        CUSTOMER_VALUE_VERSION,
        value,
        JSON.stringify(explanation),
        computedAt,
      ],
    );
  }
}
