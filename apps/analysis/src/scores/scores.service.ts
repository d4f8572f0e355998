import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import type { Prisma } from '@cdp/db';
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
type Tx = Prisma.TransactionClient;

const HOUR_MS = 3_600_000;
/** How long a counted event is remembered, so a redelivery of it is not counted again. */
export const SCORED_EVENT_RETENTION_DAYS = 7;
const PRUNE_SCORED_EVENTS = 'prune-scored-events';
/** Merges followed from a merged customer to the live one (a survivor merged in turn, ...). */
const MAX_MERGE_HOPS = 10;
const RESCORE = 'rescore-customer-value';
/** Scores not computed for this long are computed again (their activity has decayed meanwhile). */
const RESCORE_AFTER_MS = 24 * HOUR_MS;
/** Customers re-scored per run (hourly, on one replica): ~480,000 a day. */
export const RESCORE_BATCH = 20_000;

interface ActivityRow extends Activity {
  endedByMerge: string | null;
  mergedInto: string | null;
}

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
    return this.db.client.$transaction(async (tx) => {
      const counted = await tx.$executeRaw`
        INSERT INTO scored_events (event_id, workspace_id) VALUES (${BigInt(event.eventId)}, ${event.workspaceId})
        ON CONFLICT DO NOTHING`;
      let customerId = event.customerId;
      let row = await this.lockActivity(tx, event.workspaceId, customerId, at);
      for (let hop = 0; row.mergedInto && hop < MAX_MERGE_HOPS; hop++) {
        if (counted) await this.saveActivity(tx, customerId, add(row));
        customerId = row.mergedInto;
        row = await this.lockActivity(tx, event.workspaceId, customerId, at);
      }
      if (counted)
        await this.saveAndScore(tx, event.workspaceId, customerId, add(row), `event:${event.eventId}`);
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
    await this.db.client.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Array<ActivityRow & { customerId: string }>>`
        SELECT customer_id AS "customerId", events, revenue, as_of AS "asOf",
          ended_by_merge AS "endedByMerge", merged_into AS "mergedInto"
        FROM customer_activity
        WHERE customer_id = ANY(${merged.mergedIds}::text[]) AND ended_by_merge IS NULL
        ORDER BY customer_id FOR UPDATE`;
      // Merged customers with no activity yet get a frozen row too: it sends their late events on.
      const marked = await tx.$executeRaw`
        INSERT INTO customer_activity (customer_id, workspace_id, as_of, ended_by_merge, merged_into)
        SELECT id, ${merged.workspaceId}, ${at}, ${merged.mergeId}, ${merged.survivorId}
        FROM unnest(${merged.mergedIds}::text[]) AS id
        ON CONFLICT DO NOTHING`;
      if (!rows.length && !marked) return;
      let survivor: Activity = await this.lockActivity(tx, merged.workspaceId, merged.survivorId, at);
      for (const row of rows) survivor = combine(survivor, row, this.parameters.halfLifeDays);
      await tx.customerActivity.updateMany({
        where: { customerId: { in: rows.map((r) => r.customerId) } },
        data: { endedByMerge: merged.mergeId, mergedInto: merged.survivorId },
      });
      await tx.score.deleteMany({
        where: { customerId: { in: merged.mergedIds }, model: CUSTOMER_VALUE_MODEL },
      });
      await this.saveAndScore(tx, merged.workspaceId, merged.survivorId, survivor, `merge:${merged.mergeId}`);
    });
  }

  /** An undone merge takes the restored customers' activity out of the survivor's and gives it back. */
  async onIdentityUnmerged(unmerged: Unmerged): Promise<void> {
    const cause = `unmerge:${unmerged.mergeId}`;
    await this.db.client.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Array<ActivityRow & { customerId: string }>>`
        SELECT customer_id AS "customerId", events, revenue, as_of AS "asOf",
          ended_by_merge AS "endedByMerge", merged_into AS "mergedInto"
        FROM customer_activity
        WHERE customer_id = ANY(${unmerged.restoredIds}::text[]) AND ended_by_merge = ${unmerged.mergeId}
        ORDER BY customer_id FOR UPDATE`;
      if (!rows.length) return;
      let survivor: Activity = await this.lockActivity(
        tx,
        unmerged.workspaceId,
        unmerged.survivorId,
        new Date(unmerged.unmergedAt),
      );
      for (const row of rows) survivor = combine(survivor, row, this.parameters.halfLifeDays, -1);
      await this.saveAndScore(tx, unmerged.workspaceId, unmerged.survivorId, survivor, cause);
      for (const row of rows) {
        await tx.customerActivity.update({
          where: { customerId: row.customerId },
          data: { endedByMerge: null, mergedInto: null },
        });
        await this.saveAndScore(tx, unmerged.workspaceId, row.customerId, row, cause);
      }
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
      await this.db.client.$transaction(async (tx) => {
        const row = await this.lockActivity(tx, workspaceId, customerId, now);
        if (row.endedByMerge) return;
        await this.saveAndScore(tx, workspaceId, customerId, row, `rescore:${now.toISOString()}`, now);
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
    tx: Tx,
    workspaceId: string,
    customerId: string,
    at: Date,
  ): Promise<ActivityRow> {
    await tx.$executeRaw`
      INSERT INTO customer_activity (customer_id, workspace_id, as_of) VALUES (${customerId}, ${workspaceId}, ${at})
      ON CONFLICT DO NOTHING`;
    const [row] = await tx.$queryRaw<ActivityRow[]>`
      SELECT events, revenue, as_of AS "asOf", ended_by_merge AS "endedByMerge", merged_into AS "mergedInto"
      FROM customer_activity WHERE customer_id = ${customerId} FOR UPDATE`;
    return row!;
  }

  private async saveActivity(tx: Tx, customerId: string, activity: Activity): Promise<void> {
    await tx.customerActivity.update({
      where: { customerId },
      data: { events: activity.events, revenue: activity.revenue, asOf: activity.asOf },
    });
  }

  /**
   * Saves the activity and the score it gives as of `now` (the time the value is read at; an
   * activity of events timestamped later is read as of them). A changed score is announced first;
   * an unchanged one only records that it was computed.
   */
  private async saveAndScore(
    tx: Tx,
    workspaceId: string,
    customerId: string,
    activity: Activity,
    cause: string,
    now = new Date(),
  ): Promise<void> {
    await this.saveActivity(tx, customerId, activity);
    const { value, explanation } = customerValue(activity, now, this.parameters);
    const key = { workspaceId_customerId_model: { workspaceId, customerId, model: CUSTOMER_VALUE_MODEL } };
    const previous = await tx.score.findUnique({ where: key, select: { value: true } });
    const computedAt = new Date();
    if (previous?.value === value) {
      await tx.score.update({ where: key, data: { explanation, computedAt } });
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
        ...(previous && { previousValue: previous.value }),
        computedAt: computedAt.toISOString(),
      },
      { msgId: `score:${customerId}:${CUSTOMER_VALUE_MODEL}:${cause}` },
    );
    await tx.score.upsert({
      where: key,
      create: {
        workspaceId,
        customerId,
        model: CUSTOMER_VALUE_MODEL,
        modelVersion: CUSTOMER_VALUE_VERSION,
        value,
        explanation,
        computedAt,
      },
      update: { modelVersion: CUSTOMER_VALUE_VERSION, value, explanation, computedAt },
    });
  }
}
