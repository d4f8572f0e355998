import { Injectable } from '@nestjs/common';
import { LifecycleRules, Subjects, validate, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, MicroBatcher, TtlCache } from '@cdp/service-kit';

type Stage = 'potential' | 'prospect' | 'contracted';
type Ingested = PayloadOf<typeof Subjects.eventIngested>;

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

/**
 * The lifecycle stage potential -> prospect -> contracted, moved forward (never back) by rules
 * that are workspace configuration (workspaces.settings.lifecycleRules), not code.
 */
@Injectable()
export class LifecycleService {
  private readonly rulesCache = new TtlCache<LifecycleRules>(10_000);
  /** Stage changes of many events in one UPDATE: a statement per event would cost more than the event. */
  private readonly batcher = new MicroBatcher<StageChange>({
    maxSize: 250,
    maxDelayMs: 15,
    flush: (changes) => this.advanceMany(changes).then(() => undefined),
  });

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

  /** The stage an event moves its customer to under the workspace's rules, if any. */
  async stageFor(event: Ingested): Promise<Stage | undefined> {
    const { rules } = await this.rules(event.workspaceId);
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

  /** Moves the customer forward with the next batch; resolves once stored and announced. */
  advanceSoon(change: StageChange): Promise<void> {
    return this.batcher.add(change);
  }

  /**
   * Moves each customer forward to the highest stage asked for it (never back: Postgres orders the
   * enum potential < prospect < contracted) in one statement, then announces every change once
   * (msgId lifecycle:<customer>:<stage>:<cause>). Returns the changes made.
   */
  async advanceMany(changes: readonly StageChange[]): Promise<StageChange[]> {
    const highest = new Map<string, StageChange>();
    for (const change of changes) {
      const known = highest.get(change.customerId);
      if (!known || ORDER.indexOf(change.stage) > ORDER.indexOf(known.stage))
        highest.set(change.customerId, change);
    }
    if (!highest.size) return [];
    const wanted = [...highest.values()];
    const moved = await this.db.transaction(async (sql) => {
      // By primary key: the planner would scan every customer for a few hundred ids (see ingest).
      await sql.execute(`SELECT set_config('enable_seqscan', 'off', true)`);
      return sql.query<{ id: string; customerCode: string; traits: unknown; updatedAt: Date }>(
        `UPDATE customers c SET lifecycle_stage = v.stage::lifecycle_stage, updated_at = now()
        FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, workspace_id, stage)
        WHERE c.id = v.id AND c.workspace_id = v.workspace_id AND c.lifecycle_stage < v.stage::lifecycle_stage
        RETURNING c.id, c.customer_code AS "customerCode", c.traits, c.updated_at AS "updatedAt"`,
        [wanted.map((w) => w.customerId), wanted.map((w) => w.workspaceId), wanted.map((w) => w.stage)],
      );
    });
    const made = moved.map((row) => ({ row, change: highest.get(row.id)! }));
    await this.publisher.publishMany(
      made.map(({ row, change }) => ({
        subject: Subjects.profileUpdated,
        payload: {
          workspaceId: change.workspaceId,
          customerId: row.id,
          customerCode: row.customerCode,
          lifecycleStage: change.stage,
          changedTraits: ['lifecycleStage'],
          traits: (row.traits ?? {}) as Record<string, unknown>,
          updatedAt: row.updatedAt.toISOString(),
        },
        msgId: `lifecycle:${row.id}:${change.stage}:${change.cause}`,
      })),
    );
    return made.map(({ change }) => change);
  }
}
