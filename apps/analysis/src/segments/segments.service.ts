import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { CreateSegmentRequest, SegmentCondition, Subjects, validate, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher, type PublishItem } from '@cdp/messaging';
import { DatabaseService, invalidInput, queueOptions, ScheduledJobs, SERVICE_CONFIG } from '@cdp/service-kit';
import type { AnalysisConfig } from '../config';
import { eventTime } from '../event-time';
import {
  combinedMatches,
  countedConditions,
  countsMatch,
  eventFits,
  eventMatches,
  profileMatches,
  ruleKinds,
  ruleProblem,
  scoreMatches,
  type CountedCondition,
  type RuleKind,
} from './segment-rules';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;
type Merged = PayloadOf<typeof Subjects.identityMerged>;
type ProfileUpdated = PayloadOf<typeof Subjects.profileUpdated>;
type Unmerged = PayloadOf<typeof Subjects.identityUnmerged>;
type ScoreUpdated = PayloadOf<typeof Subjects.scoreUpdated>;

/**
 * How long a replica uses a workspace's active segments before reading them again. Every event,
 * stage change and score change is matched against them; reading and validating them each time
 * cost more than the rest of the work. A segment created through another replica applies here
 * within this time (through this one, at once).
 */
const SEGMENTS_CACHE_MS = 1000;
const DAY_MS = 86_400_000;
/** How often window segments let go of the members whose count fell below the rule. */
const WINDOW_CHECK_MS = 60_000;
const EXPIRE_WINDOWS = 'expire-window-segments';
/** How often new score segments are looked for, to take in the customers whose scores already qualify. */
const BACKFILL_CHECK_MS = 5_000;
const BACKFILL = 'backfill-new-segments';
/** Customers of a back-fill read per statement. */
const BACKFILL_PAGE = 1000;
/** Members of a window segment checked per statement. */
const WINDOW_PAGE = 1000;

/** A segment and a customer, the key of a membership. */
interface Pair {
  workspaceId: string;
  segmentId: string;
  customerId: string;
}

interface Membership {
  enteredAt: Date;
  exitedAt: Date | null;
  gainedByMerge: string | null;
}

/** A customer's state changed (their stage, a score) at `changedAt`: `matches` tells which rules it meets now. */
interface StateChange {
  workspaceId: string;
  customerId: string;
  changedAt: string;
  cause: string;
  matches: (rule: SegmentCondition) => boolean;
}

/** Score rows grouped by customer: model -> value. */
function scoresByCustomer(
  rows: readonly { customerId: string; model: string; value: number }[],
): Map<string, Map<string, number>> {
  const byCustomer = new Map<string, Map<string, number>>();
  for (const r of rows)
    byCustomer.set(
      r.customerId,
      (byCustomer.get(r.customerId) ?? new Map<string, number>()).set(r.model, r.value),
    );
  return byCustomer;
}

const scoreCause = (update: ScoreUpdated) => `score:${update.model}:${update.value}`;

/** What moved a customer in or out of a profile segment: their stage, or the traits that changed. */
function profileCause(update: ProfileUpdated): string {
  if (update.changedTraits.includes('lifecycleStage')) return `lifecycle:${update.lifecycleStage}`;
  // None changed: the profile announced again as it stands (collection's profile replay).
  if (!update.changedTraits.length) return 'profile';
  return `traits:${update.changedTraits.join(',')}`.slice(0, 500);
}

/**
 * Nats-Msg-Id of an entry tied to the membership it changes (none yet, or the one that ended at a
 * given time): announcing the same entry again, after a crash or from another replica, is dropped.
 */
const entryMsgId = (segmentId: string, customerId: string, membership: Membership | undefined) =>
  `segment-entered:${segmentId}:${customerId}:${membership?.exitedAt?.toISOString() ?? 'new'}`;

/** Nats-Msg-Id of an exit tied to the membership it ends (the one entered at `enteredAt`). */
const exitMsgId = (segmentId: string, customerId: string, enteredAt: Date) =>
  `${Subjects.segmentExited.name}:${segmentId}:${customerId}:${enteredAt.toISOString()}`;

const pairKey = (segmentId: string, customerId: string) => `${segmentId} ${customerId}`;

/** The items sorted by an ISO time of theirs (stable: equal times keep their order). */
function inTimeOrder<T>(items: readonly T[], timeOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => Date.parse(timeOf(a)) - Date.parse(timeOf(b)));
}

interface ActiveSegment {
  id: string;
  name: string;
  rule: SegmentCondition;
  kinds: Set<RuleKind>;
  /** Conditions of several kinds (e.g. a trait and an event): the whole rule is evaluated on each change. */
  combined: boolean;
  /** Its conditions that count events (`atLeast`, `withinDays`, under `all`; all of a combined rule's). */
  counted: CountedCondition[];
}

/** A customer to evaluate for a combined segment, and what made them a candidate. */
interface CombinedCandidate {
  workspaceId: string;
  segment: ActiveSegment;
  customerId: string;
  cause: string;
}

/** An event counted for a counting condition of a segment. */
interface Hit {
  segmentId: string;
  path: string;
  eventId: string;
  customerId: string;
  workspaceId: string;
  occurredAt: Date;
}

/** Segment definitions (stored rules) and real-time membership. */
@Injectable()
export class SegmentsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SegmentsService.name);
  private readonly activeByWorkspace = new Map<
    string,
    { loadedAt: number; segments: Promise<ActiveSegment[]> }
  >();
  private readonly jobs: ScheduledJobs;

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: AnalysisConfig,
  ) {
    this.jobs = new ScheduledJobs('analysis-segment-upkeep', queueOptions(config));
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.CONSUMERS) return;
    await this.jobs.start(
      [
        { name: EXPIRE_WINDOWS, everyMs: WINDOW_CHECK_MS },
        { name: BACKFILL, everyMs: BACKFILL_CHECK_MS },
      ],
      (job) => (job === BACKFILL ? this.backfillNew() : this.expireWindows()),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }

  async create(workspaceId: string, request: CreateSegmentRequest) {
    const kinds = ruleKinds(request.definition);
    if (kinds.has('window') && kinds.size > 1)
      throw invalidInput(
        '/definition',
        'conditions on events within a window (withinDays) cannot be combined with conditions of other kinds (events without a window, the profile, scores)',
      );
    const problem = ruleProblem(request.definition);
    if (problem) throw invalidInput(`/definition${problem.path}`, problem.reason);
    const segment = await this.db.client.segment.create({
      data: {
        workspaceId,
        name: request.name,
        description: request.description ?? null,
        definition: request.definition,
        kind: 'realtime',
        status: 'active',
      },
    });
    // After the commit: a reload started before it would cache the list without the new segment.
    this.activeByWorkspace.delete(workspaceId);
    return segment;
  }

  list(workspaceId: string) {
    return this.db.client.segment.findMany({ where: { workspaceId }, orderBy: { createdAt: 'desc' } });
  }

  async members(workspaceId: string, segmentId: string, limit: number, after?: string) {
    const segment = await this.db.client.segment.findFirst({
      where: { id: segmentId, workspaceId },
      select: { id: true },
    });
    if (!segment) throw new NotFoundException(`Segment ${segmentId} not found`);
    const rows = await this.db.client.segmentMembership.findMany({
      where: { segmentId, exitedAt: null, ...(after && { customerId: { gt: after } }) },
      orderBy: { customerId: 'asc' },
      take: limit,
    });
    return { items: rows, nextCursor: rows.length === limit ? rows[rows.length - 1]!.customerId : null };
  }

  /**
   * The segments a customer is a member of, newest entry first; with `history`, also those they
   * left (or whose membership passed to a survivor on a merge: `endedByMerge`).
   */
  async segmentsOf(workspaceId: string, customerId: string, history: boolean) {
    const rows = await this.db.client.segmentMembership.findMany({
      where: { workspaceId, customerId, ...(!history && { exitedAt: null }) },
      include: { segment: { select: { name: true } } },
      orderBy: [{ enteredAt: 'desc' }, { segmentId: 'asc' }],
    });
    return {
      customerId,
      segments: rows.map((m) => ({
        segmentId: m.segmentId,
        name: m.segment.name,
        enteredAt: m.enteredAt,
        exitedAt: m.exitedAt,
        ...(m.endedByMerge && { endedByMerge: m.endedByMerge }),
        ...(m.gainedByMerge && { gainedByMerge: m.gainedByMerge }),
      })),
    };
  }

  /**
   * Puts the events' customers into every active real-time segment whose rule one of their events
   * meets. cdp.segment.entered goes out before the membership rows are written, with a Nats-Msg-Id
   * tied to the membership it changes (none yet, or the one that ended at a given time): a
   * redelivery after a crash, or another replica handling an event of the same customer at once,
   * publishes the same id (deduplicated by JetStream), so no entry is lost and none is announced
   * twice within the window.
   */
  async onEventsIngested(events: readonly Ingested[]): Promise<void> {
    const matched = new Map<string, Pair & { segmentName: string; cause: string }>();
    const hits: Hit[] = [];
    const countedPairs = new Map<string, Pair & { segment: ActiveSegment; cause: string }>();
    const combined: CombinedCandidate[] = [];
    for (const event of events) {
      const evaluated = { ...(event.name && { name: event.name }), properties: event.properties };
      for (const segment of await this.active(event.workspaceId)) {
        const pair = { workspaceId: event.workspaceId, segmentId: segment.id, customerId: event.customerId };
        const key = pairKey(segment.id, event.customerId);
        for (const { path, condition } of segment.counted)
          if (eventFits(condition, evaluated)) {
            hits.push({ ...pair, path, eventId: event.eventId, occurredAt: eventTime(event) });
            if (!countedPairs.has(key)) countedPairs.set(key, { ...pair, segment, cause: event.messageId });
          }
        if (segment.combined || !segment.kinds.has('event') || !eventMatches(segment.rule, evaluated))
          continue;
        if (!matched.has(key))
          matched.set(key, { ...pair, segmentName: segment.name, cause: event.messageId });
      }
    }
    if (hits.length) {
      // Counted first, then the counts read: a redelivered event is counted once (its row exists).
      await this.recordHits(hits);
      const counts = await this.countHits([...countedPairs.values()], new Date());
      for (const [key, { segment, ...pair }] of countedPairs)
        if (segment.combined) combined.push({ ...pair, segment });
        else if (!matched.has(key) && countsMatch(segment.rule, counts.get(key) ?? new Map()))
          matched.set(key, { ...pair, segmentName: segment.name });
    }
    await this.followCombined(combined);
    if (!matched.size) return;
    const held = await this.memberships([...matched.values()]);
    const entering = [...matched].filter(([key]) => held.get(key)?.exitedAt !== null);
    // The survivor of a merge now meets the rule itself: undoing the merge keeps it a member.
    const confirmed = [...matched].filter(
      ([key]) => held.get(key)?.gainedByMerge && !held.get(key)?.exitedAt,
    );
    if (confirmed.length)
      await this.db.pool.query(
        `UPDATE segment_memberships m SET gained_by_merge = NULL
        FROM unnest($1::text[], $2::text[]) AS k(segment_id, customer_id)
        WHERE m.segment_id = k.segment_id AND m.customer_id = k.customer_id`,
        [confirmed.map(([, p]) => p.segmentId), confirmed.map(([, p]) => p.customerId)],
      );
    if (!entering.length) return;
    const at = new Date();
    await this.publisher.publishMany(
      entering.map(([key, { workspaceId, segmentId, segmentName, customerId, cause }]) => ({
        subject: Subjects.segmentEntered,
        payload: { workspaceId, segmentId, segmentName, customerId, at: at.toISOString(), cause },
        msgId: entryMsgId(segmentId, customerId, held.get(key)),
      })),
    );
    await this.writeMemberships(entering.map(([, p]) => ({ ...p, enteredAt: at, exitedAt: null })));
  }

  /**
   * Profile segments (lifecycle stage, traits) follow the customers' profiles (see
   * {@link followStates}); each customer's latest profile is kept, for the back-fill of new ones.
   */
  async onProfilesUpdated(updates: readonly ProfileUpdated[]): Promise<void> {
    const latest = new Map<string, ProfileUpdated>();
    for (const u of updates) {
      const known = latest.get(u.customerId);
      if (!known || Date.parse(u.updatedAt) > Date.parse(known.updatedAt)) latest.set(u.customerId, u);
    }
    const profiles = [...latest.values()];
    if (profiles.length)
      await this.db.pool.query(
        `INSERT INTO profile_snapshots (customer_id, workspace_id, stage, traits, changed_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::lifecycle_stage[], $4::jsonb[], $5::timestamptz[])
        ON CONFLICT (customer_id) DO UPDATE
        SET stage = excluded.stage, traits = excluded.traits, changed_at = excluded.changed_at
        WHERE profile_snapshots.changed_at < excluded.changed_at`,
        [
          profiles.map((u) => u.customerId),
          profiles.map((u) => u.workspaceId),
          profiles.map((u) => u.lifecycleStage),
          profiles.map((u) => JSON.stringify(u.traits)),
          profiles.map((u) => u.updatedAt),
        ],
      );
    await this.followStates(
      'profile',
      updates.map((u) => ({
        workspaceId: u.workspaceId,
        customerId: u.customerId,
        changedAt: u.updatedAt,
        cause: profileCause(u),
        matches: (rule) => profileMatches(rule, { stage: u.lifecycleStage, traits: u.traits }),
      })),
    );
    await this.followCombined(await this.combinedCandidates('profile', updates, profileCause));
  }

  /**
   * Score segments follow the customers' scores: each updated one as announced (its row may not
   * be committed yet), the customer's others as stored.
   */
  async onScoresUpdated(updates: readonly ScoreUpdated[]): Promise<void> {
    const relevant: ScoreUpdated[] = [];
    for (const u of updates)
      if ((await this.active(u.workspaceId)).some((s) => s.kinds.has('score'))) relevant.push(u);
    if (!relevant.length) return;
    const { rows } = await this.db.pool.query<{
      workspaceId: string;
      customerId: string;
      model: string;
      value: number;
    }>(
      `SELECT s.workspace_id AS "workspaceId", s.customer_id AS "customerId", model, value
      FROM scores s JOIN unnest($1::text[], $2::text[]) AS k(workspace_id, customer_id)
        ON s.workspace_id = k.workspace_id AND s.customer_id = k.customer_id`,
      [relevant.map((u) => u.workspaceId), relevant.map((u) => u.customerId)],
    );
    const stored = scoresByCustomer(rows);
    const scoresOf = (customerId: string) => stored.get(customerId) ?? new Map<string, number>();
    await this.followStates(
      'score',
      inTimeOrder(relevant, (u) => u.computedAt).map((u) => {
        // Each update is matched with the customer's scores as they stand after it.
        const scores = new Map(scoresOf(u.customerId)).set(u.model, u.value);
        stored.set(u.customerId, scores);
        return {
          workspaceId: u.workspaceId,
          customerId: u.customerId,
          changedAt: u.computedAt,
          cause: scoreCause(u),
          matches: (rule) => scoreMatches(rule, scores),
        };
      }),
    );
    // `stored` now holds each customer's scores after all of the batch's updates.
    await this.followCombined(await this.combinedCandidates('score', relevant, scoreCause), stored);
  }

  /**
   * Segments of a state (the lifecycle stage, scores): a customer who comes to match the rule
   * becomes a member (cdp.segment.entered), one who no longer does leaves (cdp.segment.exited).
   * The changes are taken in time order; one older than the membership's last change is stale (a
   * redelivery or an overtaken message) and changes nothing. Announced before the rows are
   * written, with a Nats-Msg-Id tied to the change, as for event segments. `only`: that segment
   * alone (a back-fill), instead of the workspace's segments of the kind.
   */
  private async followStates(
    kind: RuleKind,
    changes: readonly StateChange[],
    only?: ActiveSegment,
  ): Promise<void> {
    const followed: { change: StateChange; segments: ActiveSegment[] }[] = [];
    for (const change of inTimeOrder(changes, (c) => c.changedAt)) {
      const segments = only
        ? [only]
        : (await this.active(change.workspaceId)).filter((s) => s.kinds.has(kind) && !s.combined);
      if (segments.length) followed.push({ change, segments });
    }
    const pairs = followed.flatMap(({ change, segments }) =>
      segments.map((s) => ({ segmentId: s.id, customerId: change.customerId })),
    );
    if (!pairs.length) return;
    const held = await this.memberships(pairs);
    const announcements: PublishItem[] = [];
    const written = new Map<string, Pair & { enteredAt: Date; exitedAt: Date | null }>();
    for (const { change, segments } of followed) {
      const { workspaceId, customerId, changedAt, cause } = change;
      const at = new Date(changedAt);
      for (const segment of segments) {
        const key = pairKey(segment.id, customerId);
        const membership = held.get(key);
        if (membership && at < (membership.exitedAt ?? membership.enteredAt)) continue;
        const isMember = membership !== undefined && membership.exitedAt === null;
        const matches = change.matches(segment.rule);
        if (matches === isMember) continue;
        const subject = matches ? Subjects.segmentEntered : Subjects.segmentExited;
        announcements.push({
          subject,
          payload: {
            workspaceId,
            segmentId: segment.id,
            segmentName: segment.name,
            customerId,
            at: changedAt,
            cause,
          },
          msgId: `${subject.name}:${segment.id}:${customerId}:${changedAt}`,
        });
        const now = matches
          ? { enteredAt: at, exitedAt: null, gainedByMerge: membership?.gainedByMerge ?? null }
          : { ...membership!, exitedAt: at };
        held.set(key, now);
        written.set(key, { workspaceId, segmentId: segment.id, customerId, ...now });
      }
    }
    await this.publisher.publishMany(announcements);
    await this.writeMemberships([...written.values()]);
  }

  /** The customers of these changes, for each combined segment of their workspace with conditions of `kind`. */
  private async combinedCandidates<T extends { workspaceId: string; customerId: string }>(
    kind: RuleKind,
    changes: readonly T[],
    causeOf: (change: T) => string,
  ): Promise<CombinedCandidate[]> {
    const candidates: CombinedCandidate[] = [];
    for (const change of changes)
      for (const segment of await this.active(change.workspaceId))
        if (segment.combined && segment.kinds.has(kind))
          candidates.push({
            workspaceId: change.workspaceId,
            segment,
            customerId: change.customerId,
            cause: causeOf(change),
          });
    return candidates;
  }

  /**
   * Combined segments (conditions of several kinds) are decided on the customer's whole state as
   * it stands: their profile snapshot (a customer never announced is a potential one without
   * traits), their scores (stored, or `knownScores`: those a batch of score changes already read
   * and updated, as their rows may not be committed yet) and their counted events. A candidate
   * who comes to match enters, one who no longer does exits; each announcement's Nats-Msg-Id is
   * tied to the membership it changes (none yet, the one that ended at a given time, or the one
   * entered at a given time), so a redelivery or two replicas evaluating one customer at once
   * announce a change once.
   */
  private async followCombined(
    candidates: readonly CombinedCandidate[],
    knownScores?: ReadonlyMap<string, ReadonlyMap<string, number>>,
  ): Promise<void> {
    const unique = new Map<string, CombinedCandidate>();
    for (const c of candidates) {
      const key = pairKey(c.segment.id, c.customerId);
      if (!unique.has(key)) unique.set(key, c);
    }
    if (!unique.size) return;
    const now = new Date();
    const customerIds = [...new Set([...unique.values()].map((c) => c.customerId))];
    const [profiles, scoresOf, counts, held] = await Promise.all([
      this.db.pool.query<{ customerId: string; stage: string; traits: Record<string, unknown> }>(
        `SELECT customer_id AS "customerId", stage::text AS stage, traits FROM profile_snapshots
        WHERE customer_id = ANY($1::text[])`,
        [customerIds],
      ),
      knownScores ?? this.storedScores(customerIds),
      this.countHits([...unique.values()], now),
      this.memberships(
        [...unique.values()].map((c) => ({ segmentId: c.segment.id, customerId: c.customerId })),
      ),
    ]);
    const profileOf = new Map(profiles.rows.map((p) => [p.customerId, { stage: p.stage, traits: p.traits }]));

    const announcements: PublishItem[] = [];
    const written: (Pair & { enteredAt: Date; exitedAt: Date | null })[] = [];
    for (const [key, { workspaceId, segment, customerId, cause }] of unique) {
      const matches = combinedMatches(segment.rule, {
        profile: profileOf.get(customerId) ?? { stage: 'potential', traits: {} },
        scores: scoresOf.get(customerId) ?? new Map(),
        counts: counts.get(key) ?? new Map(),
      });
      const membership = held.get(key);
      const isMember = membership !== undefined && membership.exitedAt === null;
      if (matches === isMember) continue;
      const payload = {
        workspaceId,
        segmentId: segment.id,
        segmentName: segment.name,
        customerId,
        at: now.toISOString(),
        cause,
      };
      announcements.push(
        matches
          ? {
              subject: Subjects.segmentEntered,
              payload,
              msgId: entryMsgId(segment.id, customerId, membership),
            }
          : {
              subject: Subjects.segmentExited,
              payload,
              msgId: exitMsgId(segment.id, customerId, membership!.enteredAt),
            },
      );
      written.push({
        workspaceId,
        segmentId: segment.id,
        customerId,
        ...(matches
          ? { enteredAt: now, exitedAt: null }
          : { enteredAt: membership!.enteredAt, exitedAt: now }),
      });
    }
    await this.publisher.publishMany(announcements);
    await this.writeMemberships(written);
  }

  /** The stored scores of these customers, by customer and model. */
  private async storedScores(customerIds: readonly string[]): Promise<Map<string, Map<string, number>>> {
    const { rows } = await this.db.pool.query<{ customerId: string; model: string; value: number }>(
      `SELECT customer_id AS "customerId", model, value FROM scores WHERE customer_id = ANY($1::text[])`,
      [customerIds],
    );
    return scoresByCustomer(rows);
  }

  /** The memberships of these (segment, customer) pairs that exist, by {@link pairKey}. */
  private async memberships(pairs: readonly Omit<Pair, 'workspaceId'>[]): Promise<Map<string, Membership>> {
    const { rows } = await this.db.pool.query<Membership & { segmentId: string; customerId: string }>(
      `SELECT m.segment_id AS "segmentId", m.customer_id AS "customerId", m.entered_at AS "enteredAt",
        m.exited_at AS "exitedAt", m.gained_by_merge AS "gainedByMerge"
      FROM segment_memberships m JOIN unnest($1::text[], $2::text[]) AS k(segment_id, customer_id)
        ON m.segment_id = k.segment_id AND m.customer_id = k.customer_id`,
      [pairs.map((p) => p.segmentId), pairs.map((p) => p.customerId)],
    );
    return new Map(rows.map(({ segmentId, customerId, ...m }) => [pairKey(segmentId, customerId), m]));
  }

  /** Writes memberships' entry and exit times (each pair once), creating those that do not exist. */
  private async writeMemberships(
    rows: readonly (Pair & { enteredAt: Date; exitedAt: Date | null })[],
  ): Promise<void> {
    if (!rows.length) return;
    await this.db.pool.query(
      `INSERT INTO segment_memberships (segment_id, customer_id, workspace_id, entered_at, exited_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
      ON CONFLICT (segment_id, customer_id) DO UPDATE SET entered_at = excluded.entered_at, exited_at = excluded.exited_at`,
      [
        rows.map((r) => r.segmentId),
        rows.map((r) => r.customerId),
        rows.map((r) => r.workspaceId),
        rows.map((r) => r.enteredAt),
        rows.map((r) => r.exitedAt),
      ],
    );
  }

  private async recordHits(hits: readonly Hit[]): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO segment_event_hits (segment_id, condition_path, event_id, customer_id, workspace_id, occurred_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[])
      ON CONFLICT DO NOTHING`,
      [
        hits.map((h) => h.segmentId),
        hits.map((h) => h.path),
        hits.map((h) => h.eventId),
        hits.map((h) => h.customerId),
        hits.map((h) => h.workspaceId),
        hits.map((h) => h.occurredAt),
      ],
    );
  }

  /**
   * The counted events of each (segment, customer), by counting condition: those of a window
   * within its last `withinDays` as of `now`, the others all of them. Keyed by {@link pairKey}.
   */
  private async countHits(
    pairs: readonly { segment: ActiveSegment; customerId: string }[],
    now: Date,
  ): Promise<Map<string, Map<string, number>>> {
    const keys = pairs.flatMap(({ segment, customerId }) =>
      segment.counted.map(({ path, condition }) => ({
        segmentId: segment.id,
        customerId,
        path,
        since: new Date(condition.withinDays ? now.getTime() - condition.withinDays * DAY_MS : 0),
      })),
    );
    const { rows } = await this.db.pool.query<{
      segmentId: string;
      customerId: string;
      path: string;
      n: number;
    }>(
      `SELECT k.segment_id AS "segmentId", k.customer_id AS "customerId", k.path, count(h.event_id)::int AS n
      FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS k(segment_id, customer_id, path, since)
      LEFT JOIN segment_event_hits h ON h.segment_id = k.segment_id AND h.customer_id = k.customer_id
        AND h.condition_path = k.path AND h.occurred_at >= k.since
      GROUP BY 1, 2, 3`,
      [
        keys.map((k) => k.segmentId),
        keys.map((k) => k.customerId),
        keys.map((k) => k.path),
        keys.map((k) => k.since),
      ],
    );
    const counts = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const key = pairKey(r.segmentId, r.customerId);
      counts.set(key, (counts.get(key) ?? new Map<string, number>()).set(r.path, r.n));
    }
    return counts;
  }

  /**
   * Segments not yet evaluated in full (`last_evaluated_at` null: new ones) are: a score or
   * profile segment takes in the customers whose stored scores, or profile snapshot, already meet
   * its rule (cdp.segment.entered, cause `backfill`, timed by the score's computation or the
   * profile change, so a newer change handled meanwhile wins); event segments have nothing stored here to
   * take in (they fill from new events, or from collection's replay). Run every BACKFILL_CHECK_MS
   * (one replica); a back-fill cut short runs again whole (its announcements are deduplicated).
   * @returns how many segments were evaluated.
   */
  async backfillNew(): Promise<number> {
    const segments = await this.db.client.segment.findMany({
      where: { status: 'active', kind: 'realtime', lastEvaluatedAt: null },
      select: { id: true, workspaceId: true, name: true, definition: true },
    });
    for (const row of segments) {
      const segment = this.parse(row);
      if (segment?.combined) await this.backfillCombined(row.workspaceId, segment);
      else if (segment?.kinds.has('score')) await this.backfillScores(row.workspaceId, segment);
      else if (segment?.kinds.has('profile')) await this.backfillProfiles(row.workspaceId, segment);
      await this.db.client.segment.update({ where: { id: row.id }, data: { lastEvaluatedAt: new Date() } });
    }
    return segments.length;
  }

  /** The customers of a workspace whose stored scores meet a score segment's rule, page by page. */
  private backfillScores(workspaceId: string, segment: ActiveSegment): Promise<void> {
    return this.backfillPages('score', segment, async (after) => {
      // Every score of a page of customers (restricted ones left out).
      const { rows } = await this.db.pool.query<{
        customerId: string;
        model: string;
        value: number;
        computedAt: Date;
      }>(
        `WITH page AS (
          SELECT DISTINCT customer_id FROM scores
          WHERE workspace_id = $1 AND customer_id > $2
            AND customer_id NOT IN (SELECT customer_id FROM restricted_customers WHERE restricted)
          ORDER BY customer_id LIMIT ${BACKFILL_PAGE})
        SELECT s.customer_id AS "customerId", s.model, s.value, s.computed_at AS "computedAt"
        FROM scores s JOIN page USING (customer_id) WHERE s.workspace_id = $1 ORDER BY s.customer_id`,
        [workspaceId, after],
      );
      const customers = new Map<string, { scores: Map<string, number>; at: Date }>();
      for (const r of rows) {
        const c = customers.get(r.customerId) ?? { scores: new Map<string, number>(), at: r.computedAt };
        c.scores.set(r.model, r.value);
        if (r.computedAt > c.at) c.at = r.computedAt;
        customers.set(r.customerId, c);
      }
      return [...customers].map(([customerId, { scores, at }]) => ({
        workspaceId,
        customerId,
        changedAt: at.toISOString(),
        cause: 'backfill',
        matches: (rule) => scoreMatches(rule, scores),
      }));
    });
  }

  /** The customers of a workspace whose profile snapshot meets a profile segment's rule, page by page. */
  private backfillProfiles(workspaceId: string, segment: ActiveSegment): Promise<void> {
    return this.backfillPages('profile', segment, async (after) => {
      const { rows } = await this.db.pool.query<{
        customerId: string;
        stage: string;
        traits: Record<string, unknown>;
        changedAt: Date;
      }>(
        `SELECT customer_id AS "customerId", stage::text AS stage, traits, changed_at AS "changedAt"
        FROM profile_snapshots
        WHERE workspace_id = $1 AND customer_id > $2
          AND customer_id NOT IN (SELECT customer_id FROM restricted_customers WHERE restricted)
        ORDER BY customer_id LIMIT ${BACKFILL_PAGE}`,
        [workspaceId, after],
      );
      return rows.map(({ customerId, stage, traits, changedAt }) => ({
        workspaceId,
        customerId,
        changedAt: changedAt.toISOString(),
        cause: 'backfill',
        matches: (rule) => profileMatches(rule, { stage, traits }),
      }));
    });
  }

  /**
   * The customers of a workspace that a new combined segment may take in at once: those with a
   * profile snapshot or a score (events are counted only from the segment's creation on), page by page.
   */
  private async backfillCombined(workspaceId: string, segment: ActiveSegment): Promise<void> {
    let after = '';
    for (;;) {
      const { rows } = await this.db.pool.query<{ customerId: string }>(
        `SELECT customer_id AS "customerId" FROM (
          SELECT customer_id FROM profile_snapshots WHERE workspace_id = $1 AND customer_id > $2
          UNION SELECT customer_id FROM scores WHERE workspace_id = $1 AND customer_id > $2) c
        WHERE customer_id NOT IN (SELECT customer_id FROM restricted_customers WHERE restricted)
        ORDER BY customer_id LIMIT ${BACKFILL_PAGE}`,
        [workspaceId, after],
      );
      if (!rows.length) return;
      await this.followCombined(
        rows.map(({ customerId }) => ({ workspaceId, segment, customerId, cause: 'backfill' })),
      );
      after = rows.at(-1)!.customerId;
      if (rows.length < BACKFILL_PAGE) return;
    }
  }

  /** Pages of changes, one per customer in customer id order, followed for `segment` alone. */
  private async backfillPages(
    kind: RuleKind,
    segment: ActiveSegment,
    page: (after: string) => Promise<StateChange[]>,
  ): Promise<void> {
    let after = '';
    for (;;) {
      const changes = await page(after);
      if (!changes.length) return;
      await this.followStates(kind, changes, segment);
      after = changes.at(-1)!.customerId;
      if (changes.length < BACKFILL_PAGE) return;
    }
  }

  /**
   * Window segments let go of the members whose count fell below the rule as their events aged out
   * of the window (cdp.segment.exited, tied to the membership it ends), and forget the counted
   * events older than the segment's longest window. Run every WINDOW_CHECK_MS (one replica).
   * @returns how many members left.
   */
  async expireWindows(now = new Date()): Promise<number> {
    const segments = await this.db.client.segment.findMany({
      where: { status: 'active', kind: 'realtime' },
      select: { id: true, workspaceId: true, name: true, definition: true },
    });
    let exited = 0;
    for (const row of segments) {
      const segment = this.parse(row);
      if (!segment?.kinds.has('window')) continue;
      exited += await this.expireWindow(row.workspaceId, segment, now);
      const longest = Math.max(...segment.counted.map((c) => c.condition.withinDays ?? Infinity));
      if (Number.isFinite(longest))
        await this.db.pool.query(
          'DELETE FROM segment_event_hits WHERE segment_id = $1 AND occurred_at < $2',
          [segment.id, new Date(now.getTime() - longest * DAY_MS)],
        );
    }
    if (exited) this.logger.log(`${exited} member(s) left window segments as their events aged out`);
    return exited;
  }

  private async expireWindow(workspaceId: string, segment: ActiveSegment, now: Date): Promise<number> {
    let exited = 0;
    let after = '';
    for (;;) {
      const { rows: members } = await this.db.pool.query<{ customerId: string; enteredAt: Date }>(
        `SELECT customer_id AS "customerId", entered_at AS "enteredAt" FROM segment_memberships
        WHERE segment_id = $1 AND exited_at IS NULL AND customer_id > $2 ORDER BY customer_id LIMIT ${WINDOW_PAGE}`,
        [segment.id, after],
      );
      if (!members.length) return exited;
      after = members.at(-1)!.customerId;
      const counts = await this.countHits(
        members.map((m) => ({ segment, customerId: m.customerId })),
        now,
      );
      const leaving = members.filter(
        (m) => !countsMatch(segment.rule, counts.get(pairKey(segment.id, m.customerId)) ?? new Map()),
      );
      if (leaving.length) {
        await this.publisher.publishMany(
          leaving.map(({ customerId, enteredAt }) => ({
            subject: Subjects.segmentExited,
            payload: {
              workspaceId,
              segmentId: segment.id,
              segmentName: segment.name,
              customerId,
              at: now.toISOString(),
              cause: 'window',
            },
            msgId: exitMsgId(segment.id, customerId, enteredAt),
          })),
        );
        // Only the membership announced as ended: one entered again meanwhile stays.
        const { rowCount } = await this.db.pool.query(
          `UPDATE segment_memberships m SET exited_at = $2
          FROM unnest($3::text[], $4::timestamptz[]) AS l(customer_id, entered_at)
          WHERE m.segment_id = $1 AND m.customer_id = l.customer_id AND m.entered_at = l.entered_at AND m.exited_at IS NULL`,
          [segment.id, now, leaving.map((m) => m.customerId), leaving.map((m) => m.enteredAt)],
        );
        exited += rowCount ?? 0;
      }
      if (members.length < WINDOW_PAGE) return exited;
    }
  }

  /**
   * Customers merged into a survivor are one person: their current memberships end and pass to the
   * survivor (who keeps the earliest entry time), so a later event of the person does not make
   * them enter, and trigger campaigns, a second time. No cdp.segment.entered or exited: the
   * person neither entered nor left. Both sides are marked with the merge, for an unmerge.
   * Idempotent: a redelivery finds no current membership of the merged customers.
   */
  async onIdentityMerged(merged: Merged): Promise<void> {
    const at = new Date(merged.mergedAt);
    const moved = await this.db.client.$transaction(async (tx) => {
      const held = await tx.segmentMembership.findMany({
        where: { workspaceId: merged.workspaceId, customerId: { in: merged.mergedIds }, exitedAt: null },
      });
      const firstEntry = new Map<string, Date>();
      for (const m of held) {
        const known = firstEntry.get(m.segmentId);
        if (!known || m.enteredAt < known) firstEntry.set(m.segmentId, m.enteredAt);
      }
      for (const [segmentId, enteredAt] of firstEntry) {
        const key = { segmentId_customerId: { segmentId, customerId: merged.survivorId } };
        const survivor = await tx.segmentMembership.findUnique({ where: key });
        if (survivor && !survivor.exitedAt) continue;
        await tx.segmentMembership.upsert({
          where: key,
          create: {
            workspaceId: merged.workspaceId,
            segmentId,
            customerId: merged.survivorId,
            enteredAt,
            gainedByMerge: merged.mergeId,
          },
          update: { enteredAt, exitedAt: null, gainedByMerge: merged.mergeId },
        });
      }
      await tx.segmentMembership.updateMany({
        where: { workspaceId: merged.workspaceId, customerId: { in: merged.mergedIds }, exitedAt: null },
        data: { exitedAt: at, endedByMerge: merged.mergeId },
      });
      // Merged customers' profiles are no one's any more (the survivor's profile is announced for it).
      await tx.profileSnapshot.deleteMany({
        where: { workspaceId: merged.workspaceId, customerId: { in: merged.mergedIds } },
      });
      // The merged customers' counted events are the survivor's now (an unmerge leaves them there).
      await tx.segmentEventHit.updateMany({
        where: { workspaceId: merged.workspaceId, customerId: { in: merged.mergedIds } },
        data: { customerId: merged.survivorId },
      });
      return held.length;
    });
    if (moved)
      this.logger.log(
        `merge ${merged.mergeId}: ${moved} membership(s) of ${merged.mergedIds.length} merged customer(s) passed to ${merged.survivorId}`,
      );
  }

  /**
   * An undone merge gives the restored customers back the memberships the merge ended, and takes
   * from the survivor those it held only through the merge (unless it met the rule itself since).
   */
  async onIdentityUnmerged(unmerged: Unmerged): Promise<void> {
    const at = new Date(unmerged.unmergedAt);
    const [restored, taken] = await this.db.client.$transaction([
      this.db.client.segmentMembership.updateMany({
        where: {
          workspaceId: unmerged.workspaceId,
          customerId: { in: unmerged.restoredIds },
          endedByMerge: unmerged.mergeId,
        },
        data: { exitedAt: null, endedByMerge: null },
      }),
      this.db.client.segmentMembership.updateMany({
        where: {
          workspaceId: unmerged.workspaceId,
          customerId: unmerged.survivorId,
          gainedByMerge: unmerged.mergeId,
        },
        data: { exitedAt: at, gainedByMerge: null },
      }),
    ]);
    if (restored.count || taken.count)
      this.logger.log(
        `unmerge ${unmerged.mergeId}: ${restored.count} membership(s) restored, ${taken.count} held only through the merge ended`,
      );
  }

  /** The workspace's active real-time segments with their parsed rules (cached SEGMENTS_CACHE_MS). */
  private active(workspaceId: string): Promise<ActiveSegment[]> {
    const cached = this.activeByWorkspace.get(workspaceId);
    if (cached && Date.now() - cached.loadedAt < SEGMENTS_CACHE_MS) return cached.segments;
    const segments = this.loadActive(workspaceId);
    this.activeByWorkspace.set(workspaceId, { loadedAt: Date.now(), segments });
    segments.catch(() => this.activeByWorkspace.delete(workspaceId));
    return segments;
  }

  private async loadActive(workspaceId: string): Promise<ActiveSegment[]> {
    const rows = await this.db.client.segment.findMany({
      where: { workspaceId, status: 'active', kind: 'realtime' },
      select: { id: true, name: true, definition: true },
    });
    return rows.flatMap((row) => this.parse(row) ?? []);
  }

  /** A stored segment with its parsed rule; undefined (and a warning) if its definition is invalid. */
  private parse(row: { id: string; name: string; definition: unknown }): ActiveSegment | undefined {
    const rule = validate(SegmentCondition, row.definition);
    if (rule.ok) {
      const kinds = ruleKinds(rule.value);
      const combined = kinds.size > 1;
      return {
        id: row.id,
        name: row.name,
        rule: rule.value,
        kinds,
        combined,
        counted: countedConditions(rule.value, combined),
      };
    }
    this.logger.warn(`segment ${row.id} has an invalid definition, skipped: ${JSON.stringify(rule.issues)}`);
    return undefined;
  }

  /**
   * An erased customer's part of analysis: segment memberships, scores, the activity behind them,
   * persona assignments, counted events, the profile snapshot and the record of a restriction go
   * (no cdp.segment.exited: the person is gone, not out of the segment).
   */
  async forgetCustomers(workspaceId: string, customerIds: string[]): Promise<void> {
    const where = { workspaceId, customerId: { in: customerIds } };
    const [, , memberships, scores, activity, personas, counted] = await this.db.client.$transaction([
      this.db.client.restrictedCustomer.deleteMany({ where }),
      this.db.client.profileSnapshot.deleteMany({ where }),
      this.db.client.segmentMembership.deleteMany({ where }),
      this.db.client.score.deleteMany({ where }),
      this.db.client.customerActivity.deleteMany({ where }),
      this.db.client.personaAssignment.deleteMany({ where }),
      this.db.client.segmentEventHit.deleteMany({ where }),
    ]);
    this.logger.log(
      `erased ${customerIds.length} customer(s) of ${workspaceId}: ${memberships.count} memberships, ${scores.count} scores, ${activity.count} activity rows, ${personas.count} persona assignments, ${counted.count} counted events deleted`,
    );
  }
}
