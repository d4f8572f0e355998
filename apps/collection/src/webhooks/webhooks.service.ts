import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { IdentifyCall, TrackCall, validate, WebhookMapping, type ValidationIssue } from '@cdp/contracts';
import { DatabaseService } from '@cdp/service-kit';
import type { SourceContext } from '../sources/write-key.guard';
import { TrackingService } from '../tracking/tracking.service';
import { mapWebhook } from './webhook-mapping';

export interface WebhookResult {
  accepted: number;
  rejected: Array<{ index: number; issues: ValidationIssue[] }>;
}

/** A generic JSON webhook source: the source's stored mapping turns each payload into tracking calls. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: DatabaseService,
    private readonly tracking: TrackingService,
  ) {}

  async setMapping(workspaceId: string, sourceId: string, mapping: WebhookMapping): Promise<WebhookMapping> {
    const source = await this.db.client.source.findFirst({
      where: { id: sourceId, workspaceId },
      select: { settings: true },
    });
    if (!source) throw new NotFoundException(`Source ${sourceId} not found`);
    const settings = {
      ...((source.settings as Record<string, unknown> | null) ?? {}),
      webhookMapping: mapping,
    };
    await this.db.client.source.update({
      where: { id: sourceId },
      data: { settings: settings },
    });
    return mapping;
  }

  async mappingOf(workspaceId: string, sourceId: string): Promise<WebhookMapping> {
    const source = await this.db.client.source.findFirst({
      where: { id: sourceId, workspaceId },
      select: { settings: true },
    });
    if (!source) throw new NotFoundException(`Source ${sourceId} not found`);
    const stored = validate(
      WebhookMapping,
      (source.settings as { webhookMapping?: unknown } | null)?.webhookMapping,
    );
    if (!stored.ok)
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: 'This source has no webhook mapping: PUT /v1/sources/:id/webhook-mapping first',
      });
    return stored.value;
  }

  /** Maps and validates without accepting anything. */
  preview(mapping: WebhookMapping, payload: unknown) {
    return mapWebhook(mapping, payload).map((call) => {
      const checked = mapping.type === 'identify' ? validate(IdentifyCall, call) : validate(TrackCall, call);
      if (!checked.ok) return { call, issues: checked.issues };
      if (checked.value.userId === undefined && checked.value.anonymousId === undefined)
        return { call, issues: [{ path: '/userId', reason: 'userId or anonymousId is required' }] };
      return { call: { ...checked.value, type: mapping.type } };
    });
  }

  async receive(source: SourceContext, payload: unknown): Promise<WebhookResult> {
    const mapping = await this.mappingOf(source.workspaceId, source.sourceId);
    const result: WebhookResult = { accepted: 0, rejected: [] };
    const mapped = this.preview(mapping, payload);
    if (!mapped.length)
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: 'The payload holds no item to map',
        issues: [{ path: `/${(mapping.items ?? '').replace(/\./g, '/')}`, reason: 'expected an array' }],
      });
    for (const [index, { call, issues }] of mapped.entries()) {
      if (issues) {
        result.rejected.push({ index, issues });
        continue;
      }
      await this.tracking.accept(source, call);
      result.accepted++;
    }
    if (!result.accepted)
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: 'No item was accepted',
        rejected: result.rejected,
      });
    return result;
  }
}
