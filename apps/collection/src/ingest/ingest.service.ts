import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { prismaSql, type Prisma, type Sql } from '@cdp/db';
import { JetStreamPublisher, type PublishItem } from '@cdp/messaging';
import { DatabaseService, MicroBatcher, SERVICE_CONFIG } from '@cdp/service-kit';
import { isConflict } from '../common/conflicts';
import { EventStore, messageKey, type AnnouncedEvent, type NewEventRow } from '../history/event-store';
import {
  CallByCallNeeded,
  IdentityService,
  normalizeEmail,
  stripNationalId,
  type BatchResolution,
  type Identifier,
} from '../identity/identity.service';
import { LifecycleService, type Moved } from '../profiles/lifecycle.service';
import {
  PROFILE_STATE_COLUMNS,
  profileStates,
  profileUpdate,
  type ProfileState,
} from '../profiles/profile-updates';
import { mergeTraits, type TraitUpdate } from '../profiles/traits';
import { DEFAULT_LANES, laneOf, personOf } from './lanes';

type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;
type Ingested = PayloadOf<typeof Subjects.eventIngested>;

/**
 * Handler calls in flight per process: the back-pressure bound of the batcher (every call waits
 * in it). Half the consumer's max_ack_pending (NATS default 1000), so the messages a crashed
 * process held until ack_wait expires leave room for its restart or another replica to go on.
 */
export const INGEST_CONCURRENCY = 500;
/**
 * cdp.ingest.batch messages in flight per process. Each holds a few grouped /v1/track calls or up
 * to MAX_CALLS_PER_INGEST_BATCH calls of a /v1/batch request (256 KB at most): 256 keep both lanes'
 * batches full with either, and bound the payload held to 64 MB at worst (~1 MB with grouped
 * /v1/track calls). With 64, one batch took every call in flight and the next could only start
 * once it was stored and acked: storing ran one batch at a time.
 */
export const INGEST_BATCH_CONCURRENCY = 256;
/**
 * Batches of one lane flushing at once: one announces its events while the next stores, and they
 * hold different people's calls (keyOf), so they rarely wait for each other's locks. More only
 * made each batch slower on the 2-core machine (its CPU is saturated at two lanes of two).
 */
const FLUSHES_PER_LANE = 2;
/** Calls per batch transaction. */
const BATCH_SIZE = 250;
/** How long the first call of a batch waits for company when the consumer is idle. */
const BATCH_DELAY_MS = 15;
/** Attempts of a batch transaction that lost a race (deadlock, concurrent duplicate) before the batch fails. */
const CONFLICT_ATTEMPTS = 3;
/** Batches that must merge resolve those calls one by one: allow more than Prisma's 5 s default. */
const TRANSACTION_TIMEOUT_MS = 60_000;
const TRANSACTION_MAX_WAIT_MS = 10_000;

const batchSize = new Histogram({
  name: 'collection_ingest_batch_size',
  help: 'Tracking calls stored per batch transaction',
  buckets: [1, 5, 20, 50, 100, 250, 500],
});
const batchDuration = new Histogram({
  name: 'collection_ingest_batch_duration_seconds',
  help: 'Time to store and announce one batch of tracking calls',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

const suppressedCalls = new Counter({
  name: 'collection_suppressed_calls_total',
  help: 'Tracking calls not stored because they carry a suppressed identifier (an erased person)',
});

const identityResolutions = new Counter({
  name: 'collection_identity_resolutions_total',
  help: 'Tracking calls whose identifiers were resolved to a customer (committed)',
});

interface Persisted {
  ingested: Ingested[];
  /** cdp.profile.updated of the traits and lifecycle stages the batch changed. */
  profileAnnouncements: PublishItem[];
  resolved: number;
  /** Calls not stored because they carry a suppressed identifier. */
  suppressed: number;
  /** Whether some calls were resolved one by one (they may have merged customers). */
  callByCall: boolean;
}

interface NewCall {
  call: Accepted;
  traits: Record<string, unknown>;
  identifiers: Identifier[];
}

interface ResolvedCall extends NewCall {
  customerId: string;
}

/**
 * Persists accepted tracking calls in batches: the JetStream handler hands each call to a
 * micro-batcher and waits; a batch is one transaction (dedup on workspace + messageId, identity
 * resolution per new call, one multi-row insert), then one cdp.event.ingested per call is
 * announced, and only then do the handlers resolve (the transport acks after that). A failure
 * rejects the whole batch, so every message of it is redelivered; already stored ones are found by
 * their messageId and only re-announced (same Nats-Msg-Id, so subscribers see them once).
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly lanes: MicroBatcher<Accepted>[];

  constructor(
    private readonly db: DatabaseService,
    private readonly identity: IdentityService,
    private readonly events: EventStore,
    private readonly publisher: JetStreamPublisher,
    private readonly lifecycle: LifecycleService,
    @Inject(SERVICE_CONFIG) config: { INGEST_LANES?: number } = {},
  ) {
    this.lanes = Array.from(
      { length: config.INGEST_LANES ?? DEFAULT_LANES },
      () =>
        new MicroBatcher<Accepted>({
          maxSize: BATCH_SIZE,
          maxDelayMs: BATCH_DELAY_MS,
          concurrentFlushes: FLUSHES_PER_LANE,
          keyOf: personOf,
          flush: (calls) => this.storeBatch(calls),
        }),
    );
  }

  /**
   * Stores one call with the next batch. `alone` stores it in a transaction of its own: for a
   * message on its last delivery, so a message that fails every batch it is in (a poison message)
   * cannot drag a healthy one into the dead-letter queue with it.
   */
  store(call: Accepted, { alone = false }: { alone?: boolean } = {}): Promise<void> {
    return alone ? this.storeBatch([call]) : this.inLane(call);
  }

  /**
   * Stores the calls of one batch message with the next batches. On its last delivery every call
   * is stored alone, so one poison call cannot keep the healthy ones of its message from being
   * stored (the message still fails and is dead-lettered; its stored calls are not stored twice).
   */
  async storeAll(calls: readonly Accepted[], { alone = false }: { alone?: boolean } = {}): Promise<void> {
    if (!alone) {
      await Promise.all(calls.map((call) => this.inLane(call)));
      return;
    }
    const failures: unknown[] = [];
    for (const call of calls) await this.storeBatch([call]).catch((error: unknown) => failures.push(error));
    if (failures.length) throw failures[0];
  }

  private inLane(call: Accepted): Promise<void> {
    return this.lanes[laneOf(call, this.lanes.length)]!.add(call);
  }

  /** Stores the calls in one transaction, then announces them; rejects if any step fails. */
  async storeBatch(calls: readonly Accepted[]): Promise<void> {
    const timer = batchDuration.startTimer();
    const { ingested, profileAnnouncements, resolved, suppressed, callByCall } = await this.persist(calls);
    identityResolutions.inc(resolved);
    suppressedCalls.inc(suppressed);
    // Merges (only ever made call by call) sit in the identity outbox: announce them now (a sweep catches the rest).
    if (callByCall) this.identity.announceMerges();
    await this.publisher.publishMany([
      ...ingested.map((event): PublishItem => ({
        subject: Subjects.eventIngested,
        payload: event,
        msgId: `event:${event.workspaceId}:${event.messageId}`,
      })),
      ...profileAnnouncements,
    ]);
    batchSize.observe(calls.length);
    timer();
  }

  /**
   * One transaction per batch. Plain SQL first; a batch whose identities may merge, refuse or
   * split (rare: resolveMany says so before writing) runs again as a Prisma transaction, which
   * call-by-call resolution needs.
   */
  private async persist(calls: readonly Accepted[]): Promise<Persisted> {
    try {
      return await this.retryingRaces(calls, () => this.db.transaction((sql) => this.persistIn(sql, calls)));
    } catch (error) {
      if (!(error instanceof CallByCallNeeded)) throw error;
    }
    return this.retryingRaces(calls, () =>
      this.db.client.$transaction((tx) => this.persistIn(prismaSql(tx), calls, tx), {
        timeout: TRANSACTION_TIMEOUT_MS,
        maxWait: TRANSACTION_MAX_WAIT_MS,
      }),
    );
  }

  /** Runs a batch transaction again when it lost a race (deadlock, concurrent duplicate). */
  private async retryingRaces<T>(calls: readonly Accepted[], transaction: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await transaction();
      } catch (error) {
        if (attempt >= CONFLICT_ATTEMPTS || !isConflict(error)) throw error;
        this.logger.warn(
          `batch of ${calls.length} lost a race (attempt ${attempt}/${CONFLICT_ATTEMPTS}), retrying: ${lastLine(error)}`,
        );
      }
    }
  }

  private async persistIn(
    sql: Sql,
    calls: readonly Accepted[],
    callByCall?: Prisma.TransactionClient,
  ): Promise<Persisted> {
    // No wait in this transaction may outlast the batch: a lock held by a stuck transaction
    // fails the batch (redelivered with back-off) instead of stalling every batch behind it.
    // Every statement here looks rows up by key. For a few hundred keys out of a table of some
    // ten thousand rows, the planner prefers a sequential scan and a hash join, which read every
    // customer, identity or dedup key once per batch (most of Postgres's CPU in the benchmark);
    // without sequential scans it probes the indexes.
    await sql.execute(
      `SELECT set_config('lock_timeout', '20s', true), set_config('enable_seqscan', 'off', true)`,
    );
    // A client retry can put one messageId twice into a batch: store it once.
    const distinct = new Map<string, Accepted>();
    for (const call of calls) if (!distinct.has(messageKey(call))) distinct.set(messageKey(call), call);
    const stored = await this.events.findByMessageIds(sql, [...distinct.values()]);

    const fresh: NewCall[] = [];
    for (const [key, call] of distinct) {
      if (stored.has(key)) continue;
      const traits = traitsOf(call);
      const identifiers = this.identity.identifiersOf({ ...call, traits });
      // A national ID only ever leaves this point as its keyed hash (an identifier).
      const clean = stripNationalId({ ...call, traits });
      fresh.push({ call: clean, traits: clean.traits ?? {}, identifiers });
    }
    const resolution = await this.identity.resolveMany(
      sql,
      fresh.map(({ call, identifiers }) => ({
        workspaceId: call.workspaceId,
        identifiers,
        sourceId: call.sourceId,
        seenAt: new Date(call.receivedAt),
        messageId: call.messageId,
      })),
      callByCall,
    );
    // A call of an erased person (a suppressed identifier) resolves to no one: not stored, and acked.
    const kept = fresh.flatMap((item, i) => {
      const customerId = resolution.customerIds[i];
      return customerId ? [{ ...item, customerId }] : [];
    });
    const traitChanges = await this.applyTraits(sql, kept, resolution.customers);
    const rows = kept.map(eventRow);
    const ids = await this.events.appendMany(sql, rows);

    const ingested = new Map<string, Ingested>();
    const appended = rows.map((row, i) => fromRow(row, ids[i]!, resolution.customers.get(row.customerId)!));
    for (const event of appended) ingested.set(messageKey(event), event);
    const redelivered = [...stored.values()].map(fromStored);
    for (const event of redelivered) ingested.set(messageKey(event), event);
    const moved = await this.lifecycle.advanceIn(sql, await this.lifecycle.changesFor(appended));
    const reached = await this.lifecycle.reachedIn(sql, await this.lifecycle.changesFor(redelivered));
    const traitsAgain = await this.traitsAgain(sql, stored, distinct);
    return {
      ingested: [...distinct.keys()].flatMap((key) => ingested.get(key) ?? []),
      profileAnnouncements: [
        ...this.lifecycle.announcements([...moved, ...reached]),
        ...traitAnnouncements(traitChanges, moved),
        ...traitsAgain,
      ],
      resolved: kept.length,
      suppressed: fresh.length - kept.length,
      callByCall: resolution.sequential > 0,
    };
  }

  /**
   * Each customer's traits merged by call timestamp, one statement for the batch. Returns the
   * customers whose trait values changed, with their profile after it, for cdp.profile.updated.
   */
  private async applyTraits(
    sql: Sql,
    calls: readonly ResolvedCall[],
    customers: BatchResolution['customers'],
  ): Promise<TraitChange[]> {
    const updates = new Map<string, TraitUpdate[]>();
    /** The newest call setting each customer's traits: the cause of the announcement. */
    const newest = new Map<string, Accepted>();
    calls.forEach(({ call, traits, customerId }) => {
      if (Object.keys(traits).length === 0) return;
      updates.set(customerId, [...(updates.get(customerId) ?? []), { traits, at: new Date(call.timestamp) }]);
      const known = newest.get(customerId);
      if (!known || Date.parse(call.timestamp) >= Date.parse(known.timestamp)) newest.set(customerId, call);
    });
    const changed: ChangedProfile[] = [];
    const valueChanged = new Map<string, string[]>();
    for (const [customerId, list] of updates) {
      const customer = customers.get(customerId)!;
      const merged = mergeTraits(
        {
          traits: asObject(customer.traits),
          timestamps: asObject(customer.traitTimestamps) as Record<string, string>,
        },
        list,
      );
      if (!merged.changed.length) continue;
      if (merged.valueChanged.length) valueChanged.set(customerId, merged.valueChanged);
      const { email, phone } = merged.traits;
      changed.push({
        id: customerId,
        traits: merged.traits,
        timestamps: merged.timestamps,
        email: merged.changed.includes('email') && typeof email === 'string' ? normalizeEmail(email) : null,
        phone: merged.changed.includes('phone') && typeof phone === 'string' ? phone : null,
      });
    }
    if (!changed.length) return [];
    const states = await sql.query<ProfileState>(
      `UPDATE customers c
      SET traits = v.traits, trait_timestamps = v.timestamps,
        email = coalesce(v.email, c.email), phone = coalesce(v.phone, c.phone), updated_at = now()
      FROM json_to_recordset($1::json) AS v(id text, traits jsonb, timestamps jsonb, email text, phone text)
      WHERE c.id = v.id
      RETURNING ${PROFILE_STATE_COLUMNS}`,
      [JSON.stringify(changed)],
    );
    return states.flatMap((state) => {
      const traits = valueChanged.get(state.id);
      return traits ? [{ state, traits, cause: newest.get(state.id)!.messageId }] : [];
    });
  }

  /**
   * For calls stored before (a redelivery after a crash between the commit and the announcements):
   * the customer's profile announced again for each call that carries traits, as it stands now. The
   * msgId names the call, so one announced before is dropped as a duplicate (one announced under
   * another call of its batch is announced once more, with the same state).
   */
  private async traitsAgain(
    sql: Sql,
    stored: ReadonlyMap<string, AnnouncedEvent>,
    calls: ReadonlyMap<string, Accepted>,
  ): Promise<PublishItem[]> {
    const again: { customerId: string; traits: string[]; messageId: string }[] = [];
    for (const [key, event] of stored) {
      const call = calls.get(key)!;
      const traits = Object.keys(stripNationalId({ ...call, traits: traitsOf(call) }).traits ?? {});
      if (traits.length && event.customer)
        again.push({ customerId: event.customer.id, traits, messageId: call.messageId });
    }
    const states = await profileStates(
      sql,
      again.map((a) => a.customerId),
    );
    return again.flatMap(({ customerId, traits, messageId }) => {
      const state = states.get(customerId);
      return state ? [profileUpdate(state, traits, `profile:${customerId}:${messageId}`)] : [];
    });
  }
}

/** A customer whose trait values a batch changed, with their profile after it. */
interface TraitChange {
  state: ProfileState;
  traits: string[];
  /** messageId of the newest call that set the customer's traits. */
  cause: string;
}

/**
 * One cdp.profile.updated per customer whose trait values changed (msgId
 * `profile:<customer>:<cause>`), with the stage the batch left them in.
 */
function traitAnnouncements(changes: readonly TraitChange[], moved: readonly Moved[]): PublishItem[] {
  const stages = new Map(moved.map((m) => [m.state.id, m.state.lifecycleStage]));
  return changes.map(({ state, traits, cause }) =>
    profileUpdate(
      { ...state, lifecycleStage: stages.get(state.id) ?? state.lifecycleStage },
      traits,
      `profile:${state.id}:${cause}`,
    ),
  );
}

/** The traits a call sets: its own (identify, group) over those of its context. */
function traitsOf(call: Accepted): Record<string, unknown> {
  return { ...asObject(call.context?.traits), ...call.traits };
}

interface ChangedProfile {
  id: string;
  traits: Record<string, unknown>;
  timestamps: Record<string, string>;
  email: string | null;
  phone: string | null;
}

function eventRow({ call, traits, customerId }: ResolvedCall): NewEventRow {
  return {
    workspaceId: call.workspaceId,
    customerId,
    messageId: call.messageId,
    sourceId: call.sourceId,
    type: call.type,
    // track: the event; page/screen: the page or screen name.
    name: call.event ?? call.name ?? null,
    channel: call.channel,
    journeyStage: call.journeyStage ?? null,
    properties: asObject(call.properties ?? (call.type === 'identify' ? traits : {})),
    // Tracking-plan violations of a call in `report` mode stay visible on the stored event.
    context: call.violations?.length
      ? { ...asObject(call.context), violations: call.violations }
      : asObject(call.context),
    anonymousId: call.anonymousId ?? null,
    userId: call.userId ?? null,
    occurredAt: new Date(call.timestamp),
    sentAt: call.sentAt ? new Date(call.sentAt) : null,
    receivedAt: new Date(call.receivedAt),
  };
}

function fromRow(row: NewEventRow, id: bigint, customer: { id: string; customerCode: string }): Ingested {
  return {
    workspaceId: row.workspaceId,
    eventId: id.toString(),
    messageId: row.messageId,
    customerId: customer.id,
    customerCode: customer.customerCode,
    type: row.type,
    ...(row.name && { name: row.name }),
    channel: row.channel,
    ...(row.journeyStage && { journeyStage: row.journeyStage }),
    properties: row.properties,
    occurredAt: row.occurredAt.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
  };
}

/** The announcement of an event stored earlier (a redelivery, or a replay). */
export function fromStored(event: AnnouncedEvent): Ingested {
  if (!event.customer) throw new Error(`event ${event.id} (${event.messageId}) is not linked to a customer`);
  return {
    workspaceId: event.workspaceId,
    eventId: event.id.toString(),
    messageId: event.messageId,
    customerId: event.customer.id,
    customerCode: event.customer.customerCode,
    type: event.type,
    ...(event.name && { name: event.name }),
    channel: event.channel,
    ...(event.journeyStage && { journeyStage: event.journeyStage }),
    properties: asObject(event.properties),
    occurredAt: event.occurredAt.toISOString(),
    receivedAt: event.receivedAt.toISOString(),
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function lastLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n').pop() ?? text;
}
