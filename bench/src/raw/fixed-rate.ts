import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { createTestDatabase } from '@cdp/db';
import { cleanUpRun, NATS_URL, SERVICE_V8_FLAGS, testPrefix } from '@cdp/testing';
import { bootstrapWorkspace } from '../collection';
import { percentiles, type Percentiles } from '../paced';

/** The raw store tier (raw/store-tier.ts) as its own process; ready once it prints "ready". */
class StoreTier {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly output: string[] = [];

  constructor(env: Record<string, string>, nice: number) {
    const command = [process.execPath, ...SERVICE_V8_FLAGS, join(__dirname, 'store-tier.js')];
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
        throw new Error(`raw store tier did not start:\n${this.output.join('')}`);
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
  /** Latency from each publish's scheduled time to its PubAck, ms (warm-up left out). */
  latency: Percentiles;
  /** Calls the store tier had copied into Postgres when the publishing ended (0 without one). */
  stored: number;
  published: number;
}

/**
 * The infrastructure under the fixed-rate /v1/track figure, the strong way: one JetStream publish
 * per call (`body()`, no HTTP, no checks) to a file-storage stream, paced at `rate` from this
 * process, with the latency from each call's scheduled time to its PubAck; with `storing`, a
 * store tier (raw/store-tier.ts, CPU niceness `storeNice`) COPYs the stream into a migrated
 * database's `events` table at the same time, as the collection's worker tier stores beside its
 * API tier. Everything it made is removed afterwards.
 */
export async function rawPacedPublish(opts: {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  storing: boolean;
  storeNice: number;
  body: () => string;
}): Promise<PacedPublish> {
  const prefix = testPrefix('benchrawrate');
  const stream = `${prefix}_RAWINGEST`;
  const subject = `${prefix}.rawingest.track`;
  const database = await createTestDatabase(`cdp_bench_${prefix}`);
  const pg = new Client({ connectionString: database.url });
  const nc = await connect({ servers: NATS_URL });
  let store: StoreTier | undefined;
  try {
    await pg.connect();
    await (
      await jetstreamManager(nc)
    ).streams.add({
      name: stream,
      subjects: [`${prefix}.rawingest.>`],
      storage: 'file',
    });
    if (opts.storing) {
      const { workspaceId } = bootstrapWorkspace(database.url);
      store = new StoreTier(
        { NATS_URL, STREAM: stream, DATABASE_URL: database.url, WORKSPACE_ID: workspaceId },
        opts.storeNice,
      );
      await store.ready();
    }
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
    return {
      rate: opts.rate,
      published: total,
      acked: total - firstMeasured,
      latency: percentiles(latency),
      stored: opts.storing
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
