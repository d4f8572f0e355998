import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { CreateSegmentRequest, SegmentCondition, Subjects, validate, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, invalidInput } from '@cdp/service-kit';
import {
  eventMatches,
  ruleKinds,
  scoreMatches,
  stageMatches,
  unboundedScoreCondition,
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

interface ActiveSegment {
  id: string;
  name: string;
  rule: SegmentCondition;
  kinds: Set<RuleKind>;
}

/** Segment definitions (stored rules) and real-time membership. */
@Injectable()
export class SegmentsService {
  private readonly logger = new Logger(SegmentsService.name);
  private readonly activeByWorkspace = new Map<
    string,
    { loadedAt: number; segments: Promise<ActiveSegment[]> }
  >();

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  async create(workspaceId: string, request: CreateSegmentRequest) {
    if (ruleKinds(request.definition).size > 1)
      throw invalidInput(
        '/definition',
        'conditions must all be of one kind: on events (kept once entered), on the lifecycle stage, or on scores (both followed as they change)',
      );
    const unbounded = unboundedScoreCondition(request.definition);
    if (unbounded !== undefined)
      throw invalidInput(`/definition${unbounded}`, 'a score condition needs gte, lt or both');
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
   * Puts the event's customer into every active real-time segment whose rule the event meets.
   * cdp.segment.entered goes out before the membership row is written, with a Nats-Msg-Id tied to
   * the causing event: a redelivery after a crash publishes again (deduplicated by JetStream) and
   * then writes the row, so no entry is lost and none is announced twice within the window.
   */
  async onEventIngested(event: Ingested): Promise<void> {
    const evaluated = { ...(event.name && { name: event.name }), properties: event.properties };
    for (const segment of await this.active(event.workspaceId)) {
      if (!segment.kinds.has('event') || !eventMatches(segment.rule, evaluated)) continue;
      const membership = await this.membership(segment.id, event.customerId);
      if (membership && !membership.exitedAt) {
        // The survivor of a merge now meets the rule itself: undoing the merge keeps it a member.
        if (membership.gainedByMerge)
          await this.db.pool.query(
            'UPDATE segment_memberships SET gained_by_merge = NULL WHERE segment_id = $1 AND customer_id = $2',
            [segment.id, event.customerId],
          );
        continue;
      }
      const enteredAt = new Date();
      await this.publisher.publish(
        Subjects.segmentEntered,
        {
          workspaceId: event.workspaceId,
          segmentId: segment.id,
          segmentName: segment.name,
          customerId: event.customerId,
          at: enteredAt.toISOString(),
          cause: event.messageId,
        },
        { msgId: `segment-entered:${segment.id}:${event.customerId}:${event.messageId}` },
      );
      await this.enter(event.workspaceId, segment.id, event.customerId, enteredAt);
    }
  }

  /** Lifecycle segments follow the customer's stage (see {@link followState}). */
  async onProfileUpdated(update: ProfileUpdated): Promise<void> {
    await this.followState(
      update.workspaceId,
      update.customerId,
      update.updatedAt,
      'lifecycle',
      (rule) => stageMatches(rule, update.lifecycleStage),
      `lifecycle:${update.lifecycleStage}`,
    );
  }

  /**
   * Score segments follow the customer's scores: the updated one as announced (its row may not
   * be committed yet), the customer's others as stored.
   */
  async onScoreUpdated(update: ScoreUpdated): Promise<void> {
    if (!(await this.active(update.workspaceId)).some((s) => s.kinds.has('score'))) return;
    const { rows } = await this.db.pool.query<{ model: string; value: number }>(
      'SELECT model, value FROM scores WHERE workspace_id = $1 AND customer_id = $2',
      [update.workspaceId, update.customerId],
    );
    const scores = new Map(rows.map((s) => [s.model, s.value]));
    scores.set(update.model, update.value);
    await this.followState(
      update.workspaceId,
      update.customerId,
      update.computedAt,
      'score',
      (rule) => scoreMatches(rule, scores),
      `score:${update.model}:${update.value}`,
    );
  }

  /**
   * Segments of a state (the lifecycle stage, scores): a customer who comes to match the rule
   * becomes a member (cdp.segment.entered), one who no longer does leaves (cdp.segment.exited).
   * The change's time orders them: one older than the membership's last change is stale (a
   * redelivery or an overtaken message) and changes nothing. Announced before the row is
   * written, with a Nats-Msg-Id tied to the change, as for event segments.
   */
  private async followState(
    workspaceId: string,
    customerId: string,
    changedAt: string,
    kind: RuleKind,
    matchesRule: (rule: SegmentCondition) => boolean,
    cause: string,
  ): Promise<void> {
    const at = new Date(changedAt);
    for (const segment of await this.active(workspaceId)) {
      if (!segment.kinds.has(kind)) continue;
      const membership = await this.membership(segment.id, customerId);
      if (membership && at < (membership.exitedAt ?? membership.enteredAt)) continue;
      const isMember = membership !== null && membership.exitedAt === null;
      const matches = matchesRule(segment.rule);
      if (matches === isMember) continue;
      const subject = matches ? Subjects.segmentEntered : Subjects.segmentExited;
      await this.publisher.publish(
        subject,
        { workspaceId, segmentId: segment.id, segmentName: segment.name, customerId, at: changedAt, cause },
        { msgId: `${subject.name}:${segment.id}:${customerId}:${changedAt}` },
      );
      if (matches) await this.enter(workspaceId, segment.id, customerId, at);
      else
        await this.db.pool.query(
          'UPDATE segment_memberships SET exited_at = $3 WHERE segment_id = $1 AND customer_id = $2',
          [segment.id, customerId, at],
        );
    }
  }

  /** One membership row (plain SQL: read for every matching event and every change of state). */
  private async membership(segmentId: string, customerId: string) {
    const { rows } = await this.db.pool.query<{
      enteredAt: Date;
      exitedAt: Date | null;
      gainedByMerge: string | null;
    }>(
      `SELECT entered_at AS "enteredAt", exited_at AS "exitedAt", gained_by_merge AS "gainedByMerge"
      FROM segment_memberships WHERE segment_id = $1 AND customer_id = $2`,
      [segmentId, customerId],
    );
    return rows[0] ?? null;
  }

  /** Makes the customer a current member, entered at `at`. */
  private async enter(workspaceId: string, segmentId: string, customerId: string, at: Date): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO segment_memberships (segment_id, customer_id, workspace_id, entered_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (segment_id, customer_id) DO UPDATE SET entered_at = excluded.entered_at, exited_at = NULL`,
      [segmentId, customerId, workspaceId, at],
    );
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
    return rows.flatMap((segment) => {
      const rule = validate(SegmentCondition, segment.definition);
      if (rule.ok)
        return [{ id: segment.id, name: segment.name, rule: rule.value, kinds: ruleKinds(rule.value) }];
      this.logger.warn(
        `segment ${segment.id} has an invalid definition, skipped: ${JSON.stringify(rule.issues)}`,
      );
      return [];
    });
  }

  /**
   * An erased customer's part of analysis: segment memberships, scores, the activity behind them
   * and persona assignments go (no cdp.segment.exited: the person is gone, not out of the segment).
   */
  async forgetCustomers(workspaceId: string, customerIds: string[]): Promise<void> {
    const where = { workspaceId, customerId: { in: customerIds } };
    const [memberships, scores, activity, personas] = await this.db.client.$transaction([
      this.db.client.segmentMembership.deleteMany({ where }),
      this.db.client.score.deleteMany({ where }),
      this.db.client.customerActivity.deleteMany({ where }),
      this.db.client.personaAssignment.deleteMany({ where }),
    ]);
    this.logger.log(
      `erased ${customerIds.length} customer(s) of ${workspaceId}: ${memberships.count} memberships, ${scores.count} scores, ${activity.count} activity rows, ${personas.count} persona assignments deleted`,
    );
  }
}
