import { Injectable } from '@nestjs/common';
import { LifecycleRules, Subjects, validate, type PayloadOf } from '@cdp/contracts';
import type { Sql } from '@cdp/db';
import { JetStreamPublisher, type PublishItem } from '@cdp/messaging';
import { DatabaseService, TtlCache } from '@cdp/service-kit';
import { PROFILE_STATE_COLUMNS, profileUpdate, type ProfileState } from './profile-updates';

type Stage = 'potential' | 'prospect' | 'contracted';
type Ingested = PayloadOf<typeof Subjects.eventIngested>;
/** What the rules look at in a stored event. */
export type LifecycleEvent = Pick<
  Ingested,
  'workspaceId' | 'customerId' | 'messageId' | 'name' | 'journeyStage'
>;

const ORDER: Stage[] = ['potential', 'prospect', 'contracted'];

/** A customer to move forward to a stage, because of the event `cause` (its messageId). */
export interface StageChange {
  workspaceId: string;
  customerId: string;
  stage: Stage;
  cause: string;
}

/** Used until a workspace sets its own: interest moves a customer to prospect, a contract to contracted. */
export const DEFAULT_LIFECYCLE_RULES: LifecycleRules = {
  rules: [
    { toStage: 'prospect', journeyStages: ['explore_compare', 'purchase'] },
    { toStage: 'contracted', eventNames: ['Contract Opened'] },
  ],
};

/** A customer the stage change reached, with their profile after it (what cdp.profile.updated says). */
export interface Moved {
  change: StageChange;
  state: ProfileState;
}

/**
 * The lifecycle stage potential -> prospect -> contracted, moved forward (never back) by rules
 * that are workspace configuration (workspaces.settings.lifecycleRules), not code. Stages move in
 * the transaction that stores the event (ingest batches, operational records), so a stored event
 * has moved its customer, and no second consumer reads every event back from the stream.
 */
@Injectable()
export class LifecycleService {
  private readonly rulesCache = new TtlCache<LifecycleRules>(10_000);

  constructor(
    private readonly db: DatabaseService,
    private readonly publisher: JetStreamPublisher,
  ) {}

  async rules(workspaceId: string): Promise<LifecycleRules> {
    return this.rulesCache.get(workspaceId, async () => {
      const workspace = await this.db.client.workspace.findUnique({
        where: { id: workspaceId },
        select: { settings: true },
      });
      const stored = (workspace?.settings as { lifecycleRules?: unknown } | null)?.lifecycleRules;
      const checked = stored === undefined ? undefined : validate(LifecycleRules, stored);
      return checked?.ok ? checked.value : DEFAULT_LIFECYCLE_RULES;
    });
  }

  async setRules(workspaceId: string, rules: LifecycleRules): Promise<LifecycleRules> {
    await this.db.client.$transaction(async (tx) => {
      const workspace = await tx.workspace.findUniqueOrThrow({
        where: { id: workspaceId },
        select: { settings: true },
      });
      const settings = {
        ...((workspace.settings as Record<string, unknown> | null) ?? {}),
        lifecycleRules: rules,
      };
      await tx.workspace.update({
        where: { id: workspaceId },
        data: { settings: settings },
      });
    });
    this.rulesCache.delete(workspaceId);
    return rules;
  }

  /** The stage changes the events ask for under their workspaces' rules (most ask for none). */
  async changesFor(events: readonly LifecycleEvent[]): Promise<StageChange[]> {
    const rulesOf = new Map<string, LifecycleRules>();
    for (const workspaceId of new Set(events.map((e) => e.workspaceId)))
      rulesOf.set(workspaceId, await this.rules(workspaceId));
    const changes: StageChange[] = [];
    for (const event of events) {
      const stage = stageFor(rulesOf.get(event.workspaceId)!, event);
      if (stage)
        changes.push({
          workspaceId: event.workspaceId,
          customerId: event.customerId,
          stage,
          cause: event.messageId,
        });
    }
    return changes;
  }

  /**
   * Moves each customer forward to the highest stage asked for it (never back: Postgres orders the
   * enum potential < prospect < contracted) in one statement of the caller's transaction. Returns
   * the changes made, for `announce` once the transaction committed.
   */
  async advanceIn(sql: Sql, changes: readonly StageChange[]): Promise<Moved[]> {
    const highest = highestPerCustomer(changes);
    if (!highest.size) return [];
    const wanted = [...highest.values()];
    const rows = await sql.query<ProfileState>(
      `UPDATE customers c SET lifecycle_stage = v.stage::lifecycle_stage, updated_at = now()
      FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, workspace_id, stage)
      WHERE c.id = v.id AND c.workspace_id = v.workspace_id AND c.lifecycle_stage < v.stage::lifecycle_stage
      RETURNING ${PROFILE_STATE_COLUMNS}`,
      [wanted.map((w) => w.customerId), wanted.map((w) => w.workspaceId), wanted.map((w) => w.stage)],
    );
    return rows.map((state) => ({ change: highest.get(state.id)!, state }));
  }

  /**
   * For events stored before (a redelivery after a crash between the commit and the
   * announcements): the customers already at the stage an event asks for, to announce again. The
   * announcement's msgId names the event, so one published before is dropped as a duplicate; a
   * customer that reached the stage through another event is announced once more, with the same state.
   */
  async reachedIn(sql: Sql, changes: readonly StageChange[]): Promise<Moved[]> {
    if (!changes.length) return [];
    const rows = await sql.query<ProfileState & { cause: string }>(
      `SELECT ${PROFILE_STATE_COLUMNS}, v.cause FROM customers c
      JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(id, workspace_id, stage, cause)
        ON c.id = v.id AND c.workspace_id = v.workspace_id AND c.lifecycle_stage = v.stage::lifecycle_stage`,
      [
        changes.map((c) => c.customerId),
        changes.map((c) => c.workspaceId),
        changes.map((c) => c.stage),
        changes.map((c) => c.cause),
      ],
    );
    const byCause = new Map(changes.map((c) => [`${c.customerId}|${c.cause}`, c]));
    return rows.map(({ cause, ...state }) => ({ change: byCause.get(`${state.id}|${cause}`)!, state }));
  }

  /** One cdp.profile.updated per change (msgId lifecycle:<customer>:<stage>:<cause>). */
  announcements(moved: readonly Moved[]): PublishItem[] {
    return moved.map(({ change, state }) =>
      profileUpdate(
        state,
        ['lifecycleStage'],
        `lifecycle:${change.customerId}:${change.stage}:${change.cause}`,
      ),
    );
  }

  /** advanceIn in a transaction of its own, then the announcements. Returns the changes made. */
  async advanceMany(changes: readonly StageChange[]): Promise<StageChange[]> {
    if (!changes.length) return [];
    const moved = await this.db.transaction(async (sql) => {
      // By primary key: the planner would scan every customer for a few hundred ids (see ingest).
      await sql.execute(`SELECT set_config('enable_seqscan', 'off', true)`);
      return this.advanceIn(sql, changes);
    });
    await this.publisher.publishMany(this.announcements(moved));
    return moved.map((m) => m.change);
  }
}

/** The stage an event moves its customer to under the rules, if any. */
function stageFor({ rules }: LifecycleRules, event: LifecycleEvent): Stage | undefined {
  let best: Stage | undefined;
  for (const rule of rules) {
    const byName = rule.eventNames?.includes(event.name ?? '') ?? false;
    const byJourney =
      event.journeyStage !== undefined && (rule.journeyStages?.includes(event.journeyStage) ?? false);
    if ((byName || byJourney) && (!best || ORDER.indexOf(rule.toStage) > ORDER.indexOf(best)))
      best = rule.toStage;
  }
  return best;
}

function highestPerCustomer(changes: readonly StageChange[]): Map<string, StageChange> {
  const highest = new Map<string, StageChange>();
  for (const change of changes) {
    const known = highest.get(change.customerId);
    if (!known || ORDER.indexOf(change.stage) > ORDER.indexOf(known.stage))
      highest.set(change.customerId, change);
  }
  return highest;
}
