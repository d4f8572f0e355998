import { createHash, randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Injectable,
  Logger,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  BatchRequest,
  MAX_CALLS_PER_INGEST_BATCH,
  Subjects,
  TRACKING_CALL_TYPES,
  TrackingCallSchemas,
  validate,
  type PayloadOf,
  type RejectedCall,
  type TrackingCallType,
  type TrackingResponse,
  type ValidationIssue,
} from '@cdp/contracts';
import { JetStreamPublisher } from '@cdp/messaging';
import { MicroBatcher } from '@cdp/service-kit';
import type { SourceContext } from '../sources/write-key.guard';
import { PlanObservationsService } from '../tracking-plans/plan-observations.service';
import {
  TrackingPlansService,
  type ActivePlan,
  type PlanVerdict,
} from '../tracking-plans/tracking-plans.service';
import { inspectJson, jsonBytes, unstorableParts } from './json-checks';
import { channelOf, correctedTimestamp, isStorableTime, journeyStageOf } from './normalize';
import { MAX_CALL_BYTES } from './tracking-limits';

type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;
type JsonObject = Record<string, unknown>;

/** What the HTTP request itself tells about a call. */
export interface RequestFacts {
  ip?: string;
  receivedAt: Date;
}

/** Batch-level fields Segment applies to every call of the batch. */
interface BatchDefaults {
  context?: JsonObject;
  integrations?: JsonObject;
  sentAt?: string;
}

type Checked =
  | { ok: true; accepted: Accepted }
  | { ok: false; issues: ValidationIssue[]; tooLarge: boolean; blockedBy?: Accepted };

const MAX_EMAIL_LENGTH = 254;
/**
 * Single calls share a JetStream message with the calls that arrived in the same event-loop turn
 * (0: flushed at the end of the turn, see MicroBatcher). A timer (even 1 ms) fires only in the
 * next turn, which under load is several milliseconds of other requests later.
 */
const SINGLE_CALL_WAIT_MS = 0;
/** Single calls one message carries at most (a few KB each). */
const SINGLE_CALLS_PER_MESSAGE = 64;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function refused(issues: ValidationIssue[], tooLarge = false): Checked {
  return { ok: false, issues, tooLarge };
}

function bodyIssues(message: string, issues: ValidationIssue[], extra: object = {}) {
  return { statusCode: 400, error: 'Bad Request', message, issues, ...extra };
}

/**
 * Accepts Segment tracking calls: checks and normalises each one and makes it durable on
 * JetStream before the 2xx (cdp.ingest.accepted for a call alone, cdp.ingest.batch for several).
 */
@Injectable()
export class TrackingService {
  private readonly logger = new Logger(TrackingService.name);
  /**
   * Group commit of single calls: the calls of requests arriving within a millisecond share one
   * JetStream message (one socket write, one PubAck, one delivery to the worker) instead of one
   * each; every request still answers only after its call is acked. A call alone stays a
   * cdp.ingest.accepted message with its messageId as Nats-Msg-Id.
   */
  private readonly singleCalls = new MicroBatcher<Accepted>({
    maxSize: SINGLE_CALLS_PER_MESSAGE,
    maxDelayMs: SINGLE_CALL_WAIT_MS,
    concurrentFlushes: true,
    flush: (calls) => this.publish(calls, 'group'),
  });

  constructor(
    private readonly publisher: JetStreamPublisher,
    private readonly plans: TrackingPlansService,
    private readonly observations: PlanObservationsService,
  ) {}

  /** One identify/track/page/screen/group/alias call: 400 or 413 if it is bad, else stored. */
  async acceptCall(
    source: SourceContext,
    type: TrackingCallType,
    body: unknown,
    request: RequestFacts,
  ): Promise<TrackingResponse> {
    const plan = await this.plans.planFor(source.workspaceId, source.sourceId);
    const checked = this.check(source, type, body, {}, request, plan);
    if (!checked.ok) {
      this.observeBlocked([checked]);
      if (checked.tooLarge)
        throw new PayloadTooLargeException({
          ...bodyIssues(`A call may be at most ${MAX_CALL_BYTES} bytes`, checked.issues),
          statusCode: 413,
          error: 'Payload Too Large',
        });
      throw new BadRequestException(bodyIssues('Invalid request body', checked.issues));
    }
    await this.singleCalls.add(checked.accepted);
    this.observeAccepted([checked.accepted]);
    return { success: true };
  }

  /** A call shaped by another part of the service (webhook mapping, import): same checks, same stream. */
  async accept(
    source: SourceContext,
    call: { type: TrackingCallType } & Record<string, unknown>,
    receivedAt = new Date(),
  ): Promise<void> {
    await this.acceptCall(source, call.type, call, { receivedAt });
  }

  /**
   * A batch: the good calls are stored and the bad ones listed by index (200); with no good call
   * at all, 400. Every good call is acked by JetStream before the answer, or the answer is 503.
   */
  async acceptBatch(source: SourceContext, body: unknown, request: RequestFacts): Promise<TrackingResponse> {
    const envelope = validate(BatchRequest, body);
    if (!envelope.ok) throw new BadRequestException(bodyIssues('Invalid batch', envelope.issues));
    const { batch, context, integrations, sentAt } = envelope.value;
    const envelopeIssues = unstorableParts({ context, integrations, sentAt });
    if (envelopeIssues.length) throw new BadRequestException(bodyIssues('Invalid batch', envelopeIssues));
    const defaults: BatchDefaults = { context, integrations, sentAt };
    const plan = await this.plans.planFor(source.workspaceId, source.sourceId);

    const accepted: Accepted[] = [];
    const rejected: RejectedCall[] = [];
    const refusedChecks: Checked[] = [];
    batch.forEach((item, index) => {
      const type = isObject(item) ? item.type : undefined;
      const checked = (TRACKING_CALL_TYPES as readonly unknown[]).includes(type)
        ? this.check(source, type as TrackingCallType, item, defaults, request, plan)
        : refused([
            {
              path: isObject(item) ? '/type' : '/',
              reason: `must be one of ${TRACKING_CALL_TYPES.join(', ')}`,
            },
          ]);
      if (checked.ok) accepted.push(checked.accepted);
      else {
        rejected.push({ index, issues: checked.issues });
        refusedChecks.push(checked);
      }
    });
    this.observeBlocked(refusedChecks);
    if (!accepted.length)
      throw new BadRequestException(
        bodyIssues(
          'No valid call in the batch',
          rejected.flatMap((r) =>
            r.issues.map((i) => ({ ...i, path: `/batch/${r.index}${i.path === '/' ? '' : i.path}` })),
          ),
          { rejected },
        ),
      );
    await this.publish(accepted, 'request');
    this.observeAccepted(accepted);
    return rejected.length ? { success: true, rejected } : { success: true };
  }

  /** Counted once stored, so a request answered 503 and retried is not counted twice. */
  private observeAccepted(calls: Accepted[]): void {
    for (const call of calls) this.observations.accepted(call, call.violations ?? [], checkedPart(call));
  }

  private observeBlocked(checks: Checked[]): void {
    for (const checked of checks)
      if (!checked.ok && checked.blockedBy)
        this.observations.blocked(checked.blockedBy, checked.issues, checkedPart(checked.blockedBy));
  }

  /**
   * `request`: the calls of one /v1/batch request; `group`: single calls of different requests
   * (group commit), which a client never retries together.
   */
  private async publish(calls: Accepted[], origin: 'request' | 'group'): Promise<void> {
    try {
      // Nats-Msg-Id = workspace + messageId(s): a retried call or batch inside the stream's
      // duplicate window is dropped by JetStream; the persisting consumer deduplicates the rest in
      // Postgres. A batch is one message per slice: one PubAck for hundreds of calls. A group's
      // calls are never sent again as the same set, so its id is only unique (no hash to pay).
      // Each call was checked against its contract in normalise(), so the messages are built from
      // each call's JSON, serialized once, and the publisher does not check or serialize them again.
      await this.publisher.publishMany(
        calls.length === 1
          ? [
              {
                subject: Subjects.ingestAccepted,
                payload: calls[0]!,
                msgId: `${calls[0]!.workspaceId}:${calls[0]!.messageId}`,
                json: JSON.stringify(calls[0]),
              },
            ]
          : slices(calls).map((slice) => {
              const workspaceId = slice[0]!.call.workspaceId;
              return {
                subject: Subjects.ingestBatchAccepted,
                payload: { workspaceId, calls: slice.map((s) => s.call) },
                msgId:
                  origin === 'group'
                    ? `group:${workspaceId}:${randomUUID()}`
                    : `batch:${workspaceId}:${createHash('sha256')
                        .update(slice.map((s) => s.call.messageId).join('\n'))
                        .digest('base64url')}`,
                json: `{"workspaceId":${JSON.stringify(workspaceId)},"calls":[${slice.map((s) => s.json).join(',')}]}`,
              };
            }),
      );
    } catch (error) {
      // Some calls may be stored already; the client retries the whole request and the
      // duplicates are dropped by messageId.
      this.logger.warn(
        `publishing ${calls.length} call(s) failed, answering 503: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw new ServiceUnavailableException({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The event stream is unavailable, retry later',
      });
    }
  }

  private check(
    source: SourceContext,
    type: TrackingCallType,
    body: unknown,
    defaults: BatchDefaults,
    request: RequestFacts,
    plan: ActivePlan,
  ): Checked {
    if (!isObject(body)) return refused([{ path: '/', reason: 'must be a JSON object' }]);
    const { writeKey: _secret, ...call } = body;
    if (defaults.context && (call.context === undefined || isObject(call.context)))
      call.context = { ...defaults.context, ...call.context };
    if (defaults.integrations && (call.integrations === undefined || isObject(call.integrations)))
      call.integrations = { ...defaults.integrations, ...call.integrations };
    if (defaults.sentAt && call.sentAt === undefined) call.sentAt = defaults.sentAt;

    const inspection = inspectJson(call);
    const size = inspection.maxBytes > MAX_CALL_BYTES ? jsonBytes(call) : 0;
    if (size > MAX_CALL_BYTES)
      return refused(
        [{ path: '/', reason: `call is ${size} bytes, over the limit of ${MAX_CALL_BYTES}` }],
        true,
      );
    if (inspection.issues.length) return refused(inspection.issues);
    const valid = validate(TrackingCallSchemas[type], call);
    if (!valid.ok) return refused(valid.issues);
    const normalised = this.normalise(source, type, valid.value, request);
    return normalised.ok
      ? this.applyPlan(normalised.accepted, this.plans.judge(plan, normalised.accepted))
      : normalised;
  }

  /** A call the plan blocks is refused like any invalid call; a reported one carries its violations. */
  private applyPlan(accepted: Accepted, verdict: PlanVerdict): Checked {
    if (verdict.blocked)
      return { ok: false, issues: verdict.violations, tooLarge: false, blockedBy: accepted };
    if (verdict.violations.length) accepted.violations = verdict.violations;
    return { ok: true, accepted };
  }

  private normalise(
    source: SourceContext,
    type: TrackingCallType,
    call: {
      messageId?: string;
      userId?: string | number;
      anonymousId?: string | number;
      previousId?: string | number;
      groupId?: string | number;
      event?: string;
      name?: string;
      category?: string;
      properties?: JsonObject;
      traits?: JsonObject;
      context?: JsonObject;
      timestamp?: string;
      originalTimestamp?: string;
      sentAt?: string;
    },
    request: RequestFacts,
  ): Checked {
    const issues: ValidationIssue[] = [];
    const userId = idOf(call.userId);
    const anonymousId = idOf(call.anonymousId);
    if (!userId && !anonymousId)
      issues.push({ path: '/userId', reason: 'userId or anonymousId is required' });
    if (type === 'alias' && !userId) issues.push({ path: '/userId', reason: 'must not be empty' });
    if (type === 'alias' && !idOf(call.previousId))
      issues.push({ path: '/previousId', reason: 'must not be empty' });
    if (type === 'group' && !idOf(call.groupId))
      issues.push({ path: '/groupId', reason: 'must not be empty' });
    for (const field of ['timestamp', 'originalTimestamp', 'sentAt'] as const) {
      const value = call[field];
      if (value !== undefined && !isStorableTime(Date.parse(value)))
        issues.push({ path: `/${field}`, reason: 'must be between 1900-01-01 and 9999-12-31' });
    }
    const context: JsonObject = { ...call.context };
    for (const [path, traits] of [
      ['/traits/email', call.traits],
      ['/context/traits/email', context.traits],
    ] as const) {
      const email = isObject(traits) ? traits.email : undefined;
      if (typeof email === 'string' && email.length > MAX_EMAIL_LENGTH)
        issues.push({ path, reason: `must be at most ${MAX_EMAIL_LENGTH} characters` });
    }
    if (issues.length) return refused(issues);

    if (context.ip === undefined && request.ip) context.ip = request.ip;
    if (isObject(context.device) && typeof context.device.token === 'string') {
      const { token, ...device } = context.device;
      const trimmed = token.trim();
      context.device = trimmed ? { ...device, token: trimmed } : device;
    }
    let properties = call.properties;
    if (type === 'page' || type === 'screen') {
      // As Segment's SDKs do: name and category are also properties of the view.
      properties = {
        ...(call.name !== undefined && { name: call.name }),
        ...(call.category !== undefined && { category: call.category }),
        ...properties,
      };
    }
    // A group call's traits describe the group, not the person: they travel as its properties.
    if (type === 'group') properties = call.traits ?? {};
    const journeyStage = journeyStageOf(context, properties);
    const sentAt = call.sentAt;
    const accepted: Accepted = {
      workspaceId: source.workspaceId,
      sourceId: source.sourceId,
      messageId: call.messageId ?? `srv-${randomUUID()}`,
      type,
      ...(type === 'track' && call.event !== undefined && { event: call.event }),
      ...(userId && { userId }),
      ...(anonymousId && { anonymousId }),
      ...(type === 'alias' && { previousId: idOf(call.previousId) }),
      ...(type === 'group' && { groupId: idOf(call.groupId) }),
      ...((type === 'page' || type === 'screen') && {
        ...(call.name !== undefined && { name: call.name }),
        ...(call.category !== undefined && { category: call.category }),
      }),
      ...(properties && { properties }),
      ...(type === 'identify' && call.traits && { traits: call.traits }),
      context,
      channel: channelOf(context, source.sourceKind),
      ...(journeyStage && { journeyStage }),
      timestamp: correctedTimestamp(
        call.timestamp ?? call.originalTimestamp,
        sentAt,
        request.receivedAt,
      ).toISOString(),
      ...(sentAt && { sentAt }),
      receivedAt: request.receivedAt.toISOString(),
    };
    // The contract is checked here, per call, so a call it refuses is a 400 and never a 500.
    const contract = validate(Subjects.ingestAccepted.schema, accepted);
    return contract.ok ? { ok: true, accepted } : refused(contract.issues);
  }
}

/** What the tracking plan checks and the dictionary describes: properties, or traits for identify. */
function checkedPart(call: Accepted): JsonObject | undefined {
  return call.type === 'identify' ? call.traits : call.properties;
}

/** Bytes of calls one cdp.ingest.batch message carries at most, well under NATS's 1 MB max_payload. */
const MAX_BATCH_MESSAGE_BYTES = 256 * 1024;

interface SerializedCall {
  call: Accepted;
  json: string;
}

/** Consecutive slices of a batch's calls, each serialized once, that each fit one message (count and size). */
function slices(calls: Accepted[]): SerializedCall[][] {
  const out: SerializedCall[][] = [];
  let current: SerializedCall[] = [];
  let bytes = 0;
  for (const call of calls) {
    const json = JSON.stringify(call);
    const size = Buffer.byteLength(json);
    if (
      current.length &&
      (current.length >= MAX_CALLS_PER_INGEST_BATCH || bytes + size > MAX_BATCH_MESSAGE_BYTES)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ call, json });
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}
