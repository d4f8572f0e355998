import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { ValidateFunction } from 'ajv';
import type {
  PayloadOf,
  Subjects,
  TrackingPlanRuleInput,
  UnplannedEventPolicy,
  UnplannedEventsInput,
} from '@cdp/contracts';
import type { Prisma, TrackingPlanRule } from '@cdp/db';
import { DatabaseService, invalidInput, TtlCache } from '@cdp/service-kit';
import { compileSchema, issuesOf, type PlanIssue } from './plan-schema';

type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;
type Db = Prisma.TransactionClient;

/**
 * How long a replica keeps a source's compiled plan: a rule or policy saved through another
 * replica applies there within this time (at once on the replica that saved it).
 */
export const PLAN_CACHE_MS = 5000;
/** Compiled validators kept across cache refreshes (keyed by rule id and version). */
const MAX_COMPILED = 5000;

interface ActiveRule {
  id: string;
  mode: 'report' | 'block';
  validate: ValidateFunction;
}

/** The plan that applies to one source: its rules by call type and name, and its unplanned-event policy. */
export interface ActivePlan {
  rules: Map<string, ActiveRule>;
  unplanned: UnplannedEventPolicy;
}

/** What the plan says about one call. */
export interface PlanVerdict {
  violations: PlanIssue[];
  blocked: boolean;
}

const NO_VIOLATION: PlanVerdict = { violations: [], blocked: false };
export const UNPLANNED_REASON = 'event is not in the tracking plan';

function ruleKey(type: string, name: string | null | undefined): string {
  return `${type}\u0000${name ?? ''}`;
}

/** The name a rule is matched on: the track event or the page/screen name; none for other calls. */
export function eventNameOf(call: Pick<Accepted, 'type' | 'event' | 'name'>): string | undefined {
  if (call.type === 'track') return call.event;
  if (call.type === 'page' || call.type === 'screen') return call.name;
  return undefined;
}

export interface RuleView {
  id: string;
  sourceId: string | null;
  type: string;
  event: string | null;
  schema: unknown;
  mode: string;
  description: string | null;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

function viewOf(rule: TrackingPlanRule): RuleView {
  return {
    id: rule.id,
    sourceId: rule.sourceId,
    type: rule.callType,
    event: rule.eventName,
    schema: rule.schema,
    mode: rule.mode,
    description: rule.description,
    updatedBy: rule.updatedBy,
    createdAt: rule.createdAt,
    updatedAt: rule.updatedAt,
  };
}

/**
 * Tracking plans: per workspace (optionally per source) JSON Schemas for the properties or traits
 * of each kind of call, and what to do with track events no rule covers. Saves them (compiled
 * first, so a schema ajv refuses is a 400) and judges calls against them at ingest time.
 */
@Injectable()
export class TrackingPlansService {
  private readonly logger = new Logger(TrackingPlansService.name);
  private plans = new TtlCache<ActivePlan>(PLAN_CACHE_MS);
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly db: DatabaseService) {}

  // ---- judging calls (hot path) ----

  /** The plan of a source, from a cache refreshed every PLAN_CACHE_MS. */
  planFor(workspaceId: string, sourceId: string): Promise<ActivePlan> {
    return this.plans.get(`${workspaceId}:${sourceId}`, () => this.loadPlan(workspaceId, sourceId));
  }

  /** Checks an accepted call against the plan: its violations, and whether the plan refuses it. */
  judge(plan: ActivePlan, call: Accepted): PlanVerdict {
    if (call.type === 'alias') return NO_VIOLATION;
    const name = eventNameOf(call);
    const rule = plan.rules.get(ruleKey(call.type, name));
    if (!rule) {
      if (call.type !== 'track' || plan.unplanned === 'allow') return NO_VIOLATION;
      return {
        violations: [{ path: '/event', reason: UNPLANNED_REASON }],
        blocked: plan.unplanned === 'block',
      };
    }
    const [checked, at] = checkedPartOf(call);
    if (rule.validate(checked)) return NO_VIOLATION;
    return { violations: issuesOf(rule.validate.errors, at), blocked: rule.mode === 'block' };
  }

  private async loadPlan(workspaceId: string, sourceId: string): Promise<ActivePlan> {
    const scope = { workspaceId, OR: [{ sourceId }, { sourceId: null }] };
    const [rules, policies] = await Promise.all([
      this.db.client.trackingPlanRule.findMany({ where: scope }),
      this.db.client.trackingPlanPolicy.findMany({ where: scope }),
    ]);
    const active = new Map<string, ActiveRule>();
    // Workspace-wide rules first, so a source's own rule for the same call replaces them.
    for (const rule of rules.sort((a, b) => Number(a.sourceId !== null) - Number(b.sourceId !== null))) {
      const validate = this.validatorOf(rule);
      if (validate)
        active.set(ruleKey(rule.callType, rule.eventName), { id: rule.id, mode: rule.mode, validate });
    }
    const policy = policies.find((p) => p.sourceId === sourceId) ?? policies.find((p) => p.sourceId === null);
    return { rules: active, unplanned: policy?.unplannedEvents ?? 'allow' };
  }

  /** Compiling costs milliseconds: done once per rule version, not at every cache refresh. */
  private validatorOf(rule: TrackingPlanRule): ValidateFunction | undefined {
    const key = `${rule.id}:${rule.updatedAt.getTime()}`;
    const known = this.compiled.get(key);
    if (known) return known;
    const result = compileSchema(rule.schema);
    if (!result.ok) {
      // Saved schemas were compiled when saved; this only happens if ajv itself changed.
      this.logger.error(
        `tracking plan rule ${rule.id} no longer compiles (${result.issue.reason}); not applied`,
      );
      return undefined;
    }
    if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
    this.compiled.set(key, result.validate);
    return result.validate;
  }

  /** A change saved here applies at once on this replica; others pick it up within PLAN_CACHE_MS. */
  private forgetPlans(): void {
    this.plans = new TtlCache<ActivePlan>(PLAN_CACHE_MS);
  }

  // ---- managing the plan (REST) ----

  async listRules(workspaceId: string, sourceId?: string): Promise<RuleView[]> {
    const rules = await this.db.client.trackingPlanRule.findMany({
      where: { workspaceId, ...(sourceId !== undefined && { sourceId }) },
      orderBy: [{ callType: 'asc' }, { eventName: 'asc' }, { createdAt: 'asc' }],
    });
    return rules.map(viewOf);
  }

  /** Creates the rule of (source or all sources, type, event), or replaces it; audited. */
  async putRule(
    workspaceId: string,
    input: TrackingPlanRuleInput,
    actor: string,
  ): Promise<{ rule: RuleView; created: boolean }> {
    const named = input.type === 'track' || input.type === 'page' || input.type === 'screen';
    if (input.type === 'track' && input.event === undefined)
      throw invalidInput('/event', 'is required for a track rule');
    if (!named && input.event !== undefined)
      throw invalidInput('/event', `must be absent for a ${input.type} rule`);
    if ((input.type === 'page' || input.type === 'screen') && input.event === undefined)
      throw invalidInput('/event', `is required for a ${input.type} rule: the ${input.type} name`);
    const compiled = compileSchema(input.schema);
    if (!compiled.ok) throw invalidInput(compiled.issue.path, compiled.issue.reason, 'Invalid JSON Schema');
    const sourceId = input.sourceId ?? null;
    if (sourceId) await this.assertSource(workspaceId, sourceId, '/sourceId');

    const eventName = input.event ?? null;
    const data = {
      schema: input.schema as Prisma.InputJsonValue,
      mode: input.mode,
      description: input.description ?? null,
      updatedBy: actor,
    };
    const result = await this.db.client.$transaction(async (tx) => {
      await lockPlan(tx, workspaceId);
      const before = await tx.trackingPlanRule.findFirst({
        where: { workspaceId, sourceId, callType: input.type, eventName },
      });
      const rule = before
        ? await tx.trackingPlanRule.update({ where: { id: before.id }, data })
        : await tx.trackingPlanRule.create({
            data: { workspaceId, sourceId, callType: input.type, eventName, ...data },
          });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: before ? 'tracking_plan_rule.updated' : 'tracking_plan_rule.created',
          entityType: 'TrackingPlanRule',
          entityId: rule.id,
          before: before ? auditState(before) : undefined,
          after: auditState(rule),
        },
      });
      return { rule: viewOf(rule), created: !before };
    });
    this.forgetPlans();
    return result;
  }

  async deleteRule(workspaceId: string, ruleId: string, actor: string): Promise<void> {
    await this.db.client.$transaction(async (tx) => {
      const rule = await tx.trackingPlanRule.findFirst({ where: { id: ruleId, workspaceId } });
      if (!rule) throw new NotFoundException(`Tracking plan rule ${ruleId} not found`);
      await tx.trackingPlanRule.delete({ where: { id: rule.id } });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'tracking_plan_rule.deleted',
          entityType: 'TrackingPlanRule',
          entityId: rule.id,
          before: auditState(rule),
        },
      });
    });
    this.forgetPlans();
  }

  /** The workspace default and each source's override. */
  async unplannedPolicies(workspaceId: string) {
    const rows = await this.db.client.trackingPlanPolicy.findMany({
      where: { workspaceId },
      orderBy: { updatedAt: 'asc' },
    });
    return {
      workspace: rows.find((r) => r.sourceId === null)?.unplannedEvents ?? 'allow',
      sources: rows
        .filter((r) => r.sourceId !== null)
        .map((r) => ({ sourceId: r.sourceId, policy: r.unplannedEvents, updatedAt: r.updatedAt })),
    };
  }

  async setUnplannedPolicy(workspaceId: string, input: UnplannedEventsInput, actor: string) {
    const sourceId = input.sourceId ?? null;
    if (sourceId) await this.assertSource(workspaceId, sourceId, '/sourceId');
    await this.db.client.$transaction(async (tx) => {
      await lockPlan(tx, workspaceId);
      const before = await tx.trackingPlanPolicy.findFirst({ where: { workspaceId, sourceId } });
      const data = { unplannedEvents: input.policy, updatedBy: actor };
      const row = before
        ? await tx.trackingPlanPolicy.update({ where: { id: before.id }, data })
        : await tx.trackingPlanPolicy.create({ data: { workspaceId, sourceId, ...data } });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'tracking_plan_policy.updated',
          entityType: 'TrackingPlanPolicy',
          entityId: row.id,
          before: before ? { sourceId, unplannedEvents: before.unplannedEvents } : undefined,
          after: { sourceId, unplannedEvents: row.unplannedEvents },
        },
      });
    });
    this.forgetPlans();
    return this.unplannedPolicies(workspaceId);
  }

  async assertSource(workspaceId: string, sourceId: string, path: string): Promise<void> {
    const source = await this.db.client.source.findFirst({
      where: { id: sourceId, workspaceId },
      select: { id: true },
    });
    if (!source) throw invalidInput(path, 'no such source in this workspace');
  }
}

/** The part of a call a rule checks, and where it sits in the call as sent. */
function checkedPartOf(call: Accepted): [Record<string, unknown>, string] {
  if (call.type === 'identify') return [call.traits ?? {}, '/traits'];
  // The group's traits travel as the accepted call's properties.
  if (call.type === 'group') return [call.properties ?? {}, '/traits'];
  return [call.properties ?? {}, '/properties'];
}

/** Rules and policies of one workspace are written one at a time (a NULL source or event is not unique in SQL). */
async function lockPlan(tx: Db, workspaceId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`tracking_plan:${workspaceId}`}, 0))`;
}

function auditState(rule: TrackingPlanRule): Prisma.InputJsonValue {
  return {
    sourceId: rule.sourceId,
    type: rule.callType,
    event: rule.eventName,
    schema: rule.schema as Prisma.InputJsonValue,
    mode: rule.mode,
    description: rule.description,
  };
}
