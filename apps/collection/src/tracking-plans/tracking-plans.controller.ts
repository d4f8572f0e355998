import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, UseGuards } from '@nestjs/common';
import { TrackingPlanRuleInput, UnplannedEventsInput } from '@cdp/contracts';
import {
  ApiKeyGuard,
  CurrentPrincipal,
  parseBody,
  queryDateTime,
  queryInteger,
  type Principal,
  RequireScope,
} from '@cdp/service-kit';
import { PlanReportsService } from './plan-reports.service';
import { TrackingPlansService } from './tracking-plans.service';

const DAY_MS = 86_400_000;

function actorOf(p: Principal): string {
  return `api_key:${p.apiKeyId}`;
}

/** The workspace's tracking plan: rules per call, the unplanned-event policy, and what was observed. */
@Controller('v1/tracking-plan')
@UseGuards(ApiKeyGuard)
@RequireScope('tracking_plans:read')
export class TrackingPlansController {
  constructor(
    private readonly plans: TrackingPlansService,
    private readonly reports: PlanReportsService,
  ) {}

  @Get('rules')
  async list(@CurrentPrincipal() p: Principal, @Query('sourceId') sourceId?: string) {
    return { rules: await this.plans.listRules(p.workspaceId, sourceId) };
  }

  /** Creates or replaces the rule of (source or all sources, type, event); `created` says which. */
  @RequireScope('tracking_plans:write')
  @Put('rules')
  put(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.plans.putRule(p.workspaceId, parseBody(TrackingPlanRuleInput, body), actorOf(p));
  }

  @RequireScope('tracking_plans:write')
  @Delete('rules/:id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    await this.plans.deleteRule(p.workspaceId, id, actorOf(p));
  }

  @Get('unplanned-events')
  unplanned(@CurrentPrincipal() p: Principal) {
    return this.plans.unplannedPolicies(p.workspaceId);
  }

  @RequireScope('tracking_plans:write')
  @Put('unplanned-events')
  setUnplanned(@CurrentPrincipal() p: Principal, @Body() body: unknown) {
    return this.plans.setUnplannedPolicy(p.workspaceId, parseBody(UnplannedEventsInput, body), actorOf(p));
  }

  /** Violations since `since` (default: the last 24 hours), per source, event, field path and reason. */
  @Get('violations')
  async violations(
    @CurrentPrincipal() p: Principal,
    @Query('since') since?: string,
    @Query('sourceId') sourceId?: string,
    @Query('event') event?: string,
    @Query('limit') limit?: string,
  ) {
    const from = queryDateTime(since, 'since') ?? new Date(Date.now() - DAY_MS);
    return {
      violations: await this.reports.violations(p.workspaceId, {
        since: from,
        ...(sourceId !== undefined && { sourceId }),
        ...(event !== undefined && { event }),
        limit: queryInteger(limit, 'limit', { min: 1, max: 1000, default: 200 }),
      }),
    };
  }

  /** The data dictionary: events seen per source, their property keys and types, and the rule covering each. */
  @Get('dictionary')
  async dictionary(@CurrentPrincipal() p: Principal, @Query('sourceId') sourceId?: string) {
    return { events: await this.reports.dictionary(p.workspaceId, sourceId) };
  }
}
