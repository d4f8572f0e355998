// Shared set-up of the collection's ingest tests: a real database and NATS prefix per suite,
// services built from their classes (no Nest container needed), and readers of what reached
// the prefixed event stream.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Subjects, streamName, type PayloadOf } from '@cdp/contracts';
import { createTestDatabase, type PrismaClient } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import { DatabaseService, type BaseConfig } from '@cdp/service-kit';
import { EventStore } from '../src/history/event-store';
import { IdentityService } from '../src/identity/identity.service';
import { IdentityRulesService } from '../src/identity/identity-rules.service';
import { RestrictionAnnouncer } from '../src/identity/restriction-announcer';
import { SuppressionService } from '../src/identity/suppressions.service';
import { MergeAnnouncer } from '../src/merges/merge-announcer';
import { MergeService } from '../src/merges/merge.service';
import { IngestService } from '../src/ingest/ingest.service';
import { LifecycleService } from '../src/profiles/lifecycle.service';
import { REPLAY_ID_HEADER } from '../src/replay/replay.types';
import { bootstrapWorkspace, type BootstrapResult } from '../src/workspaces/bootstrap-workspace';
import { TEST_SECRETS, deleteStreams, NATS_URL, testPrefix, deleteRedisKeys } from '@cdp/testing';

export type Accepted = PayloadOf<typeof Subjects.ingestAccepted>;
export type Ingested = PayloadOf<typeof Subjects.eventIngested>;

export { NATS_URL, testPrefix };

export { REDIS_URL } from '@cdp/testing';
export { deleteRedisKeys };

export function accepted(ws: BootstrapResult, messageId: string, extra: Partial<Accepted> = {}): Accepted {
  const now = new Date().toISOString();
  return {
    workspaceId: ws.workspaceId,
    sourceId: ws.sourceId,
    messageId,
    type: 'track',
    event: 'Product Viewed',
    userId: `user-${messageId}`,
    properties: { messageId },
    context: {},
    channel: 'web',
    timestamp: now,
    receivedAt: now,
    ...extra,
  };
}

type ProfileUpdated = PayloadOf<typeof Subjects.profileUpdated>;
export type ProfileUpdateMessage = ProfileUpdated & { msgId: string };

/** Every cdp.profile.updated message the prefixed stream holds, in order, with its Nats-Msg-Id. */
export async function profileUpdatesOn(nc: NatsConnection, prefix: string): Promise<ProfileUpdateMessage[]> {
  const stream = streamName(prefix, Subjects.profileUpdated.stream);
  const { state } = await (await jetstreamManager(nc)).streams.info(stream);
  const out: ProfileUpdateMessage[] = [];
  if (!state.messages) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  for await (const m of await consumer.fetch({ max_messages: state.messages, expires: 5000 })) {
    if (m.subject.includes(Subjects.profileUpdated.name))
      out.push({ msgId: m.headers?.get('Nats-Msg-Id') ?? '', ...m.json<ProfileUpdated>() });
    if (m.seq >= state.last_seq) break;
  }
  return out;
}

export interface IngestedMessage {
  msgId: string;
  replayId: string | undefined;
  event: Ingested;
}

/** A database, a NATS prefix and a workspace of their own; `close()` removes all of it. */
export class IngestSuite {
  readonly prefix: string;
  database!: { url: string; drop(): Promise<void> };
  db!: PrismaClient;
  workspace!: BootstrapResult;
  nc!: NatsConnection;
  jsm!: JetStreamManager;
  private readonly closers: Array<() => Promise<unknown>> = [];

  constructor(label: string) {
    this.prefix = testPrefix(label);
  }

  async open(): Promise<this> {
    this.database = await createTestDatabase(`cdp_test_${this.prefix}`);
    this.db = (await this.databaseService()).client;
    this.workspace = await bootstrapWorkspace(this.db, 'ingest-test');
    this.nc = await connect({ servers: NATS_URL, name: `${this.prefix}-test` });
    this.jsm = await jetstreamManager(this.nc);
    return this;
  }

  async databaseService(poolSize = 5): Promise<DatabaseService> {
    const service = new DatabaseService({
      DATABASE_URL: this.database.url,
      DATABASE_POOL_SIZE: poolSize,
    } as BaseConfig);
    this.closers.push(() => service.onApplicationShutdown());
    return service;
  }

  async publisher(prefix = this.prefix): Promise<JetStreamPublisher> {
    const publisher = new JetStreamPublisher({ servers: NATS_URL, prefix, service: 'collection' });
    await publisher.connect();
    this.closers.push(() => publisher.close());
    return publisher;
  }

  /** An IngestService as one replica would have it: its own connection pool and NATS connection. */
  async replica(prefix = this.prefix): Promise<IngestService> {
    const db = await this.databaseService();
    const publisher = await this.publisher(prefix);
    // No sweep timer in tests (onModuleInit is not called); announceMerges() still publishes.
    const announcer = new MergeAnnouncer(db, publisher, { MERGE_OUTBOX_SWEEP_MS: 60_000 });
    // Closed before its database and NATS connection (closers run in reverse): a run it was asked
    // for by a batch's merges must not start after the test file has ended.
    this.closers.push(() => announcer.onApplicationShutdown());
    const secrets = { NATIONAL_ID_HMAC_SECRET: TEST_SECRETS.NATIONAL_ID_HMAC_SECRET! };
    const restrictions = new RestrictionAnnouncer(db, publisher, { MERGE_OUTBOX_SWEEP_MS: 60_000 });
    this.closers.push(() => restrictions.onApplicationShutdown());
    const merges = new MergeService(db, announcer);
    const identity = new IdentityService(
      new IdentityRulesService(db),
      merges,
      announcer,
      new SuppressionService(db, merges, restrictions, secrets),
      secrets,
    );
    return new IngestService(db, identity, new EventStore(), publisher, new LifecycleService(db, publisher));
  }

  /** Every cdp.event.ingested message the prefixed stream holds, with its Nats-Msg-Id and replay id. */
  async ingestedMessages(prefix = this.prefix): Promise<IngestedMessage[]> {
    const stream = streamName(prefix, Subjects.eventIngested.stream);
    const { state } = await this.jsm.streams.info(stream);
    const out: IngestedMessage[] = [];
    if (state.messages === 0) return out;
    // An ordered (ephemeral) consumer reads the whole stream in one go.
    const consumer = await jetstream(this.nc).consumers.get(stream);
    const messages = await consumer.fetch({ max_messages: state.messages, expires: 5000 });
    for await (const m of messages) {
      if (m.subject.startsWith(`${prefix}.${Subjects.eventIngested.name}.`)) {
        out.push({
          msgId: m.headers?.get('Nats-Msg-Id') ?? '',
          replayId: m.headers?.get(REPLAY_ID_HEADER) || undefined,
          event: m.json<Ingested>(),
        });
      }
      if (m.seq >= state.last_seq) break;
    }
    return out;
  }

  /** Every cdp.profile.updated message the suite's stream holds, in order, with its Nats-Msg-Id. */
  profileUpdates(): Promise<ProfileUpdateMessage[]> {
    return profileUpdatesOn(this.nc, this.prefix);
  }

  /** message_id -> number of stored events with it. */
  async storedCounts(): Promise<Map<string, number>> {
    const rows = await this.db.$queryRaw<Array<{ message_id: string; n: bigint }>>`
      SELECT message_id, count(*) AS n FROM events GROUP BY message_id`;
    return new Map(rows.map((r) => [r.message_id, Number(r.n)]));
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch(() => undefined);
    await this.nc?.close();
    await deleteStreams(this.prefix);
    await deleteRedisKeys(this.prefix);
    await this.database?.drop();
  }
}
