/**
 * The durability invariant of collection: every tracking call answered with a 2xx is stored
 * exactly once, and no messageId is ever stored twice, whatever happens to the process or to
 * Postgres. Collection runs as its own process (from dist: `pnpm build` first) with its own
 * database and NATS prefix, Postgres behind a TCP proxy; a load generator tracks unique
 * messageIds while the process is SIGKILLed and restarted, and while Postgres is cut off.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Streams, Subjects, streamName } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient } from '@cdp/db';
import { durableName } from '@cdp/messaging';
import { bootstrapWorkspace, type BootstrapResult } from '../src/workspaces/bootstrap-workspace';
import { deleteRedisKeys } from './ingest-fixtures';
import {
  deleteStreams,
  NATS_URL,
  testPrefix,
  freePort,
  ServiceProcess,
  waitFor,
  TcpProxy,
} from '@cdp/testing';

const CONCURRENT_REQUESTS = 32;
/** Upper bound of calls per load phase, whatever happens. */
const MAX_REQUESTS = 15_000;
const USERS = 300;
/** Calls per /v1/batch request of the batch-sending workers. */
const BATCH_CALLS = 5;

/** Tracks unique messageIds with bounded concurrency and remembers which ones got a 2xx. */
class LoadGenerator {
  readonly acked = new Set<string>();
  sent = 0;
  failed = 0;
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(
    readonly label: string,
    private readonly url: () => string,
    private readonly writeKey: string,
  ) {}

  start(): void {
    // A quarter of the workers send /v1/batch requests (one cdp.ingest.batch message each).
    this.workers = Array.from({ length: CONCURRENT_REQUESTS }, (_, i) =>
      this.work(i % 4 === 0 ? BATCH_CALLS : 1),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async work(callsPerRequest: number): Promise<void> {
    while (!this.stopped && this.sent < MAX_REQUESTS) {
      const numbers = Array.from({ length: callsPerRequest }, () => this.sent++);
      const calls = numbers.map((n) => ({
        type: 'track',
        messageId: `${this.label}-${n}`,
        userId: `user-${n % USERS}`,
        event: 'Load Probe',
        properties: { n },
      }));
      try {
        const res = await fetch(`${this.url()}${callsPerRequest === 1 ? '/v1/track' : '/v1/batch'}`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(callsPerRequest === 1 ? calls[0] : { batch: calls }),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.ok) for (const call of calls) this.acked.add(call.messageId);
        else this.failed++;
      } catch {
        this.failed++; // connection refused/reset while the process is down
        await sleep(100);
      }
    }
  }
}

describe('collection ingest durability (process kills, Postgres outage)', () => {
  const prefix = testPrefix('ingest_durability');
  const postgres = new TcpProxy('127.0.0.1', 5432);
  let database: { url: string; drop(): Promise<void> };
  let db: PrismaClient;
  let workspace: BootstrapResult;
  let collection: ServiceProcess;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_e2e_${prefix}`);
    db = createPrismaClient(database.url, { max: 2 });
    workspace = await bootstrapWorkspace(db, 'durability');
    await postgres.start();
    const viaProxy = new URL(database.url);
    viaProxy.port = String(postgres.port);
    collection = new ServiceProcess('collection', await freePort(), {
      DATABASE_URL: viaProxy.toString(),
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    });
    collection.start();
    await collection.ready();
    nc = await connect({ servers: NATS_URL, name: `${prefix}-test` });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    const code = await collection?.stop();
    await postgres.stop();
    await nc?.close();
    await deleteStreams(prefix);
    await deleteRedisKeys(prefix);
    await db?.$disconnect();
    await database?.drop();
    expect(code).toBe(0);
  });

  /** Waits until the persisting consumer has nothing pending or unacknowledged. */
  async function drained(timeoutMs: number): Promise<void> {
    const stream = streamName(prefix, Subjects.ingestAccepted.stream);
    const durables = [Subjects.ingestAccepted, Subjects.ingestBatchAccepted].map((s) =>
      durableName('collection', s.name),
    );
    await waitFor(
      'the ingest stream to be drained',
      async () => {
        for (const durable of durables) {
          const info = await jsm.consumers.info(stream, durable);
          if (info.num_pending !== 0 || info.num_ack_pending !== 0) return false;
        }
        return true;
      },
      timeoutMs,
      500,
    );
  }

  /** The invariant, on SQL: every acked messageId stored once, no messageId stored twice. */
  async function checkInvariant(load: LoadGenerator) {
    const rows = await db.$queryRaw<Array<{ message_id: string; n: bigint }>>`
      SELECT message_id, count(*) AS n FROM events
      WHERE message_id LIKE ${`${load.label}-%`}
      GROUP BY message_id`;
    const stored = new Map(rows.map((r) => [r.message_id, Number(r.n)]));
    const missing = [...load.acked].filter((id) => !stored.has(id));
    const twice = [...stored].filter(([, n]) => n !== 1).map(([id]) => id);
    const dlq = await jsm.streams
      .info(streamName(prefix, 'DLQ' satisfies keyof typeof Streams))
      .then((s) => s.state.messages)
      .catch(() => 0);
    return { stored, missing, twice, dlq };
  }

  it('stores every acked call exactly once across SIGKILLs and restarts', async () => {
    const load = new LoadGenerator('kill', () => collection.url, workspace.writeKey);
    load.start();
    const kills = 4;
    for (let k = 0; k < kills; k++) {
      await sleep(300 + Math.random() * 1700);
      await collection.kill('SIGKILL');
      collection.start();
      await collection.ready();
    }
    await sleep(500);
    await load.stop();
    // Messages a killed process held come back after the consumer's ack_wait (30 s).
    await drained(150_000);

    const { stored, missing, twice, dlq } = await checkInvariant(load);
    process.stdout.write(
      `durability/kills: ${kills} SIGKILLs, ${load.sent} requests, ${load.acked.size} acked, ` +
        `${load.failed} failed, ${stored.size} stored, ${missing.length} acked but missing, ` +
        `${twice.length} stored twice, ${dlq} dead letters\n`,
    );
    expect(load.acked.size).toBeGreaterThan(100);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(dlq).toBe(0);
  });

  it('keeps accepting while Postgres is cut off, then stores every acked call exactly once', async () => {
    const load = new LoadGenerator('pg', () => collection.url, workspace.writeKey);
    load.start();
    await sleep(1000);
    const before = load.acked.size;
    postgres.cut();
    await sleep(3000);
    const duringOutage = load.acked.size - before;
    postgres.restore();
    await sleep(1000);
    await load.stop();
    // The backlog of the outage is stored at the consumer's pace (identity resolution per call).
    await drained(150_000);

    const { stored, missing, twice, dlq } = await checkInvariant(load);
    process.stdout.write(
      `durability/postgres: 3 s outage, ${load.sent} requests, ${load.acked.size} acked ` +
        `(${duringOutage} during the outage), ${load.failed} failed, ${stored.size} stored, ` +
        `${missing.length} acked but missing, ${twice.length} stored twice, ${dlq} dead letters\n`,
    );
    expect(duringOutage).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    expect(twice).toEqual([]);
    expect(dlq).toBe(0);
  });
});
