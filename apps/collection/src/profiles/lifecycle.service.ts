import { Injectable } from '@nestjs/common';
import { LifecycleRules, Subjects, validate, type PayloadOf } from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, TtlCache } from '@cdp/service-kit';

type Stage = 'potential' | 'prospect' | 'contracted';
type Ingested = PayloadOf<typeof Subjects.eventIngested>;

const ORDER: Stage[] = ['potential', 'prospect', 'contracted'];

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

  /** Moves the customer forward to `stage` (no-op if already there or beyond) and announces the change once. */
  async advance(workspaceId: string, customerId: string, stage: Stage, cause: string): Promise<boolean> {
    const lower = ORDER.slice(0, ORDER.indexOf(stage));
    const moved = await this.db.client.customer.updateMany({
      where: { id: customerId, workspaceId, lifecycleStage: { in: lower } },
      data: { lifecycleStage: stage },
    });
    if (moved.count === 0) return false;
    const customer = await this.db.client.customer.findUniqueOrThrow({ where: { id: customerId } });
    await this.publisher.publish(
      Subjects.profileUpdated,
      {
        workspaceId,
        customerId,
        customerCode: customer.customerCode,
        lifecycleStage: stage,
        changedTraits: ['lifecycleStage'],
        traits: (customer.traits ?? {}) as Record<string, unknown>,
        updatedAt: customer.updatedAt.toISOString(),
      },
      { msgId: `lifecycle:${customerId}:${stage}:${cause}` },
    );
    return true;
  }
}
