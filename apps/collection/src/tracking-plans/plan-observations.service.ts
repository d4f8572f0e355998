import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { PayloadOf, Subjects } from '@cdp/contracts';
import { DatabaseService, dependencyOf } from '@cdp/service-kit';
import type { PlanIssue } from './plan-schema';
import { collectShape, type JsonType } from './property-shape';
import { eventNameOf } from './tracking-plans.service';

type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;

/**
 * How often a replica adds what it counted to Postgres. The counts of the last FLUSH_MS before a
 * crash (not a graceful stop, which flushes) are lost.
 */
export const FLUSH_MS = 5000;
/** Distinct keys held between flushes; beyond it (a flood of new names while Postgres is down) new keys are dropped. */
const MAX_PENDING_KEYS = 50_000;
const HOUR_MS = 3_600_000;
/**
 * Paths and reasons are part of the primary key: a client-chosen property name (reported as not
 * allowed) must not grow an index entry past what a btree can hold.
 */
const MAX_KEY_TEXT = 300;

const plannedCalls = new Counter({
  name: 'collection_tracking_plan_violating_calls_total',
  help: 'Tracking calls that broke the tracking plan, by outcome (reported: accepted and marked; blocked: refused)',
  labelNames: ['outcome'] as const,
});
const droppedObservations = new Counter({
  name: 'collection_tracking_plan_observations_dropped_total',
  help: 'Violation or dictionary counts not written (too many keys between flushes, or refused by Postgres)',
});

function clip(text: string): string {
  return text.length > MAX_KEY_TEXT ? `${text.slice(0, MAX_KEY_TEXT - 1)}…` : text;
}

interface ViolationTally {
  workspace_id: string;
  source_id: string;
  call_type: string;
  event_name: string;
  path: string;
  reason: string;
  hour: string;
  count: number;
  blocked_count: number;
  last_seen_at: string;
  last_message_id: string;
  last_sample: unknown;
}

interface DictionaryTally {
  workspace_id: string;
  source_id: string;
  call_type: string;
  event_name: string;
  first_seen_at: string;
  last_seen_at: string;
  count: number;
  shape: Map<string, Set<JsonType>>;
}

/**
 * Counts, in memory, the calls the tracking API accepted (the data dictionary) and the tracking
 * plan violations it found, and adds them to event_dictionary_entries and
 * tracking_plan_violations with one statement each every FLUSH_MS: the ingest path only touches
 * two Maps. Replicas add to the same rows, so their counts sum up.
 */
@Injectable()
export class PlanObservationsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PlanObservationsService.name);
  private violations = new Map<string, ViolationTally>();
  private dictionary = new Map<string, DictionaryTally>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  constructor(private readonly db: DatabaseService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** A call that was stored: counted in the dictionary, its violations (report mode) counted. */
  accepted(call: Accepted, violations: PlanIssue[], sample: Record<string, unknown> | undefined): void {
    const eventName = eventNameOf(call) ?? '';
    const key = `${call.workspaceId}\u0000${call.sourceId}\u0000${call.type}\u0000${eventName}`;
    let tally = this.dictionary.get(key);
    if (!tally) {
      if (!this.room()) return;
      tally = {
        workspace_id: call.workspaceId,
        source_id: call.sourceId,
        call_type: call.type,
        event_name: eventName,
        first_seen_at: call.receivedAt,
        last_seen_at: call.receivedAt,
        count: 0,
        shape: new Map(),
      };
      this.dictionary.set(key, tally);
    }
    tally.count += 1;
    tally.last_seen_at = call.receivedAt;
    if (sample) collectShape(sample, tally.shape);
    this.countViolations(call, violations, false, sample);
  }

  /** A call the plan refused. */
  blocked(call: Accepted, violations: PlanIssue[], sample: Record<string, unknown> | undefined): void {
    this.countViolations(call, violations, true, sample);
  }

  private countViolations(call: Accepted, violations: PlanIssue[], blocked: boolean, sample: unknown): void {
    if (!violations.length) return;
    plannedCalls.inc({ outcome: blocked ? 'blocked' : 'reported' });
    const eventName = eventNameOf(call) ?? '';
    const hour = new Date(Math.floor(Date.parse(call.receivedAt) / HOUR_MS) * HOUR_MS).toISOString();
    for (const violation of violations) {
      const path = clip(violation.path);
      const reason = clip(violation.reason);
      const key = [call.workspaceId, call.sourceId, call.type, eventName, path, reason, hour].join('\u0000');
      let tally = this.violations.get(key);
      if (!tally) {
        if (!this.room()) continue;
        tally = {
          workspace_id: call.workspaceId,
          source_id: call.sourceId,
          call_type: call.type,
          event_name: eventName,
          path,
          reason,
          hour,
          count: 0,
          blocked_count: 0,
          last_seen_at: call.receivedAt,
          last_message_id: call.messageId,
          last_sample: sample ?? {},
        };
        this.violations.set(key, tally);
      }
      tally.count += 1;
      if (blocked) tally.blocked_count += 1;
      tally.last_seen_at = call.receivedAt;
      tally.last_message_id = call.messageId;
      tally.last_sample = sample ?? {};
    }
  }

  private room(): boolean {
    if (this.violations.size + this.dictionary.size < MAX_PENDING_KEYS) return true;
    this.dropped += 1;
    droppedObservations.inc();
    return false;
  }

  /** Adds everything counted so far to Postgres (also called by tests, and on shutdown). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(): Promise<void> {
    const violations = this.violations;
    const dictionary = this.dictionary;
    if (!violations.size && !dictionary.size) return;
    this.violations = new Map();
    this.dictionary = new Map();
    if (this.dropped) {
      this.logger.warn(
        `${this.dropped} tracking plan observation(s) dropped: too many distinct keys between flushes`,
      );
      this.dropped = 0;
    }
    try {
      // Sorted by key so that two replicas flushing at once lock rows in the same order.
      if (violations.size)
        await this.inBulk(
          [...violations.entries()].sort(byKey).map(([, v]) => v),
          (rows) => this.writeViolations(rows),
        );
      violations.clear();
      if (dictionary.size)
        await this.inBulk(
          [...dictionary.entries()].sort(byKey).map(([, d]) => d),
          (rows) => this.writeDictionary(rows),
        );
    } catch (error) {
      this.logger.warn(
        `Postgres unreachable, keeping tracking plan observations for the next flush: ${error instanceof Error ? error.message : String(error)}`,
      );
      for (const [key, tally] of violations) this.mergeViolation(key, tally);
      for (const [key, tally] of dictionary) this.mergeDictionary(key, tally);
    }
  }

  /**
   * One statement for all rows. If it fails for anything but an unreachable Postgres (which is
   * rethrown, to keep the rows), a row Postgres cannot take would fail every later flush too: the
   * rows are written one by one and only the ones that fail are dropped (logged).
   */
  private async inBulk<R>(rows: R[], write: (rows: R[]) => Promise<void>): Promise<void> {
    try {
      await write(rows);
    } catch (error) {
      if (dependencyOf(error)) throw error;
      for (const row of rows)
        await write([row]).catch((rowError: unknown) => {
          if (dependencyOf(rowError)) throw rowError;
          droppedObservations.inc();
          this.logger.error(
            `tracking plan observation dropped (${JSON.stringify(row).slice(0, 300)}): ${rowError instanceof Error ? rowError.message : String(rowError)}`,
          );
        });
    }
  }

  private mergeViolation(key: string, older: ViolationTally): void {
    const newer = this.violations.get(key);
    if (!newer) this.violations.set(key, older);
    else {
      newer.count += older.count;
      newer.blocked_count += older.blocked_count;
    }
  }

  private mergeDictionary(key: string, older: DictionaryTally): void {
    const newer = this.dictionary.get(key);
    if (!newer) this.dictionary.set(key, older);
    else {
      newer.count += older.count;
      newer.first_seen_at = older.first_seen_at;
      for (const [name, types] of older.shape) {
        const known = newer.shape.get(name);
        if (known) for (const t of types) known.add(t);
        else newer.shape.set(name, types);
      }
    }
  }

  private async writeViolations(rows: ViolationTally[]): Promise<void> {
    const json = JSON.stringify(rows);
    await this.db.client.$executeRaw`
      INSERT INTO tracking_plan_violations AS v (workspace_id, source_id, call_type, event_name, path, reason, hour,
        count, blocked_count, last_seen_at, last_message_id, last_sample)
      SELECT r.workspace_id, r.source_id, r.call_type::event_type, r.event_name, r.path, r.reason, r.hour,
        r.count, r.blocked_count, r.last_seen_at, r.last_message_id, r.last_sample
      FROM jsonb_to_recordset(${json}::jsonb) AS r(workspace_id text, source_id text, call_type text,
        event_name text, path text, reason text, hour timestamptz, count int, blocked_count int,
        last_seen_at timestamptz, last_message_id text, last_sample jsonb)
      JOIN sources s ON s.id = r.source_id -- a source deleted since is skipped, not an error
      ON CONFLICT (workspace_id, source_id, call_type, event_name, path, reason, hour) DO UPDATE SET
        count = v.count + EXCLUDED.count,
        blocked_count = v.blocked_count + EXCLUDED.blocked_count,
        last_seen_at = greatest(v.last_seen_at, EXCLUDED.last_seen_at),
        last_message_id = CASE WHEN EXCLUDED.last_seen_at >= v.last_seen_at
          THEN EXCLUDED.last_message_id ELSE v.last_message_id END,
        last_sample = CASE WHEN EXCLUDED.last_seen_at >= v.last_seen_at
          THEN EXCLUDED.last_sample ELSE v.last_sample END`;
  }

  private async writeDictionary(rows: DictionaryTally[]): Promise<void> {
    const json = JSON.stringify(
      rows.map(({ shape, ...row }) => ({
        ...row,
        properties: Object.fromEntries([...shape].map(([name, types]) => [name, [...types].sort()])),
      })),
    );
    // Known keys keep their place when the 200-key limit is reached; containment skips the merge
    // in the usual case where nothing new was seen.
    await this.db.client.$executeRaw`
      INSERT INTO event_dictionary_entries AS d (workspace_id, source_id, call_type, event_name,
        first_seen_at, last_seen_at, count, properties)
      SELECT r.workspace_id, r.source_id, r.call_type::event_type, r.event_name, r.first_seen_at,
        r.last_seen_at, r.count, r.properties
      FROM jsonb_to_recordset(${json}::jsonb) AS r(workspace_id text, source_id text, call_type text,
        event_name text, first_seen_at timestamptz, last_seen_at timestamptz, count bigint, properties jsonb)
      JOIN sources s ON s.id = r.source_id
      ON CONFLICT (workspace_id, source_id, call_type, event_name) DO UPDATE SET
        first_seen_at = least(d.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = greatest(d.last_seen_at, EXCLUDED.last_seen_at),
        count = d.count + EXCLUDED.count,
        properties = CASE WHEN d.properties @> EXCLUDED.properties THEN d.properties ELSE (
          SELECT coalesce(jsonb_object_agg(k, types), '{}'::jsonb) FROM (
            SELECT k, (SELECT jsonb_agg(DISTINCT t ORDER BY t) FROM jsonb_array_elements_text(
                coalesce(d.properties -> k, '[]'::jsonb) || coalesce(EXCLUDED.properties -> k, '[]'::jsonb)) AS t) AS types
            FROM (SELECT jsonb_object_keys(d.properties) AS k UNION SELECT jsonb_object_keys(EXCLUDED.properties)) AS keys
            ORDER BY d.properties ? k DESC, k
            LIMIT 200
          ) AS merged) END`;
  }
}

function byKey<T>(a: [string, T], b: [string, T]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
