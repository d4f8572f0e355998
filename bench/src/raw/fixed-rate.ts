import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { createTestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, SERVICE_V8_FLAGS, testPrefix } from '@cdp/testing';
import { bootstrapWorkspace } from '../collection';
import { pacedLoad, percentiles, type PacedResult, type Percentiles } from '../paced';

/** A raw child process (raw/store-tier.ts, raw/bare-api.ts); ready once it prints "ready". */
class RawProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly output: string[] = [];

  constructor(
    private readonly script: string,
    env: Record<string, string>,
    nice = 0,
  ) {
    const command = [process.execPath, ...SERVICE_V8_FLAGS, join(__dirname, script)];
    const [file, ...args] = nice ? ['nice', '-n', String(nice), ...command] : command;
    this.child = spawn(file!, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => this.output.push(chunk.toString());
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!this.output.join('').includes('ready')) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`raw ${this.script} did not start:\n${this.output.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const killed = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killed);
  }
}

export interface PacedPublish {
  rate: number;
  /** Calls published and acked during the measured seconds. */
  acked: number;
  /** Latency from each call's scheduled time to its PubAck (or 2xx), ms (warm-up left out). */
  latency: Percentiles;
  /** Calls the store tier had copied into Postgres when the load ended (0 without one). */
  stored: number;
  published: number;
}

interface RawLoad {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** With a store tier (raw/store-tier.ts) at this CPU niceness COPYing the stream; none if undefined. */
  storeNice?: number;
  body: () => string;
}

/**
 * A file-storage JetStream stream and a migrated database for one raw measure, with the store
 * tier beside them if asked; `load` publishes to `subject`. Everything made is removed afterwards.
 */
async function onRawStream<Measured extends { latency: Percentiles; acked: number }>(
  opts: RawLoad,
  load: (subject: string, nc: NatsConnection) => Promise<Measured>,
): Promise<PacedPublish & Measured> {
  const prefix = testPrefix('benchrawrate');
  const stream = `${prefix}_RAWINGEST`;
  const database = await createTestDatabase(`cdp_bench_${prefix}`);
  const pg = new Client({ connectionString: database.url });
  const nc = await connect({ servers: NATS_URL });
  let store: RawProcess | undefined;
  try {
    await pg.connect();
    await (
      await jetstreamManager(nc)
    ).streams.add({ name: stream, subjects: [`${prefix}.rawingest.>`], storage: 'file' });
    if (opts.storeNice !== undefined) {
      const { workspaceId } = bootstrapWorkspace(database.url);
      store = new RawProcess(
        'store-tier.js',
        { NATS_URL, STREAM: stream, DATABASE_URL: database.url, WORKSPACE_ID: workspaceId },
        opts.storeNice,
      );
      await store.ready();
    }
    const measured = await load(`${prefix}.rawingest.track`, nc);
    return {
      ...measured,
      rate: opts.rate,
      published: Math.round(opts.rate * (opts.warmupSeconds + opts.seconds)),
      stored: store
        ? Number((await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]?.n ?? 0)
        : 0,
    };
  } finally {
    await store?.stop();
    await nc.close();
    await pg.end().catch(() => undefined);
    await cleanUpRun(prefix);
    await database.drop();
  }
}

/**
 * The infrastructure under the fixed-rate /v1/track figure, the strong way: one JetStream publish
 * per call (`body()`, no HTTP, no checks) to a file-storage stream, paced at `rate` from this
 * process, with the latency from each call's scheduled time to its PubAck; with `storeNice`, a
 * store tier COPYs the stream into a migrated database's `events` table at the same time, as the
 * collection's worker tier stores beside its API tier.
 */
export function rawPacedPublish(opts: RawLoad): Promise<PacedPublish> {
  return onRawStream(opts, async (subject, nc) => {
    const js = jetstream(nc);
    const total = Math.round(opts.rate * (opts.warmupSeconds + opts.seconds));
    const firstMeasured = Math.round(opts.rate * opts.warmupSeconds);
    const latency = new Float64Array(total - firstMeasured);
    const intervalMs = 1000 / opts.rate;
    const start = performance.now() + 20;
    let sent = 0;
    let acked = 0;
    let failed = 0;
    await new Promise<void>((resolve) => {
      const settle = () => {
        if (acked + failed === total) resolve();
      };
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
        for (; sent < due; sent++) {
          const i = sent;
          js.publish(subject, opts.body(), { msgID: `raw-${i}` }).then(
            () => {
              if (i >= firstMeasured)
                latency[i - firstMeasured] = performance.now() - (start + i * intervalMs);
              acked++;
              settle();
            },
            () => {
              failed++;
              settle();
            },
          );
        }
        if (sent < total) setTimeout(tick, 1);
      };
      setTimeout(tick, 20);
    });
    if (failed) throw new Error(`${failed} raw publishes failed`);
    return { latency: percentiles(latency), acked: total - firstMeasured };
  });
}

/**
 * The design's floor under the fixed-rate /v1/track figure, over HTTP: `replicas` bare API
 * processes (raw/bare-api.ts: node:http, JSON.parse, the calls of a turn in one JetStream message,
 * each answered after its PubAck) driven by the same open-loop generator as the collection
 * (warm-up, a pause of `settleMs`, then the measured seconds), with the store tier COPYing the stream beside them. What
 * any API tier under the rule "2xx after the JetStream ack" costs here, before auth, checks,
 * identity resolution or dedup.
 */
export function rawHttpFloor(
  opts: RawLoad & { replicas: number; connections: number; settleMs: number },
): Promise<PacedPublish & { result: PacedResult }> {
  return onRawStream(opts, async (subject) => {
    const apis: RawProcess[] = [];
    try {
      const ports: number[] = [];
      for (let i = 0; i < opts.replicas; i++) {
        const port = await freePort();
        ports.push(port);
        apis.push(new RawProcess('bare-api.js', { NATS_URL, SUBJECT: subject, PORT: String(port) }));
      }
      await Promise.all(apis.map((api) => api.ready()));
      const paced = (seconds: number) =>
        pacedLoad({
          urls: ports.map((port) => `http://127.0.0.1:${port}`),
          path: '/v1/track',
          headers: { 'content-type': 'application/json' },
          body: opts.body,
          rate: opts.rate,
          connections: opts.connections,
          seconds,
        });
      await paced(opts.warmupSeconds);
      await sleep(opts.settleMs);
      const result = await paced(opts.seconds);
      return { latency: result.latency, acked: result.ok, result };
    } finally {
      await Promise.all(apis.map((api) => api.stop()));
    }
  });
}
