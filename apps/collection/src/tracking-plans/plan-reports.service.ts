import { Injectable } from '@nestjs/common';
import { DatabaseService } from '@cdp/service-kit';

export interface ViolationSummary {
  sourceId: string;
  type: string;
  event: string | null;
  path: string;
  reason: string;
  count: number;
  blocked: number;
  lastSeenAt: Date;
  sample: { messageId: string; value: unknown };
}

export interface CoveringRule {
  id: string;
  mode: string;
  scope: 'source' | 'workspace';
}

/** Reads of what the tracking API observed: violation counts and the data dictionary. */
@Injectable()
export class PlanReportsService {
  constructor(private readonly db: DatabaseService) {}

  /** Violations since a time, summed per (source, call, event, path, reason), with the latest sample. */
  async violations(
    workspaceId: string,
    filter: { since: Date; sourceId?: string; event?: string; limit: number },
  ): Promise<ViolationSummary[]> {
    const rows = await this.db.client.$queryRaw<
      Array<{
        source_id: string;
        call_type: string;
        event_name: string;
        path: string;
        reason: string;
        count: bigint;
        blocked: bigint;
        last_seen_at: Date;
        sample: unknown;
        sample_message_id: string;
      }>
    >`
      SELECT source_id, call_type::text AS call_type, event_name, path, reason,
        sum(count) AS count, sum(blocked_count) AS blocked, max(last_seen_at) AS last_seen_at,
        (array_agg(last_sample ORDER BY last_seen_at DESC))[1] AS sample,
        (array_agg(last_message_id ORDER BY last_seen_at DESC))[1] AS sample_message_id
      FROM tracking_plan_violations
      WHERE workspace_id = ${workspaceId}
        AND hour >= date_trunc('hour', ${filter.since}::timestamptz)
        AND (${filter.sourceId ?? null}::text IS NULL OR source_id = ${filter.sourceId ?? null})
        AND (${filter.event ?? null}::text IS NULL OR event_name = ${filter.event ?? null})
      GROUP BY source_id, call_type, event_name, path, reason
      ORDER BY sum(count) DESC, event_name, path, reason
      LIMIT ${filter.limit}`;
    return rows.map((r) => ({
      sourceId: r.source_id,
      type: r.call_type,
      event: r.event_name || null,
      path: r.path,
      reason: r.reason,
      count: Number(r.count),
      blocked: Number(r.blocked),
      lastSeenAt: r.last_seen_at,
      sample: { messageId: r.sample_message_id, value: r.sample },
    }));
  }

  /** Every kind of call each source sent, with the keys and types seen and the rule that covers it. */
  async dictionary(workspaceId: string, sourceId?: string) {
    const [entries, rules] = await Promise.all([
      this.db.client.eventDictionaryEntry.findMany({
        where: { workspaceId, ...(sourceId !== undefined && { sourceId }) },
        include: { source: { select: { name: true } } },
        orderBy: [{ sourceId: 'asc' }, { callType: 'asc' }, { eventName: 'asc' }],
      }),
      this.db.client.trackingPlanRule.findMany({
        where: { workspaceId },
        select: { id: true, sourceId: true, callType: true, eventName: true, mode: true },
      }),
    ]);
    const covering = new Map<string, CoveringRule>();
    for (const rule of rules) {
      const key = `${rule.sourceId ?? '*'}\u0000${rule.callType}\u0000${rule.eventName ?? ''}`;
      covering.set(key, { id: rule.id, mode: rule.mode, scope: rule.sourceId ? 'source' : 'workspace' });
    }
    const ruleOf = (source: string, type: string, event: string) =>
      covering.get(`${source}\u0000${type}\u0000${event}`) ??
      covering.get(`*\u0000${type}\u0000${event}`) ??
      null;
    return entries.map((e) => ({
      sourceId: e.sourceId,
      sourceName: e.source.name,
      type: e.callType,
      event: e.eventName || null,
      firstSeenAt: e.firstSeenAt,
      lastSeenAt: e.lastSeenAt,
      count: Number(e.count),
      properties: e.properties as Record<string, string[]>,
      rule: e.callType === 'alias' ? null : ruleOf(e.sourceId, e.callType, e.eventName),
    }));
  }
}
