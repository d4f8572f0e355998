import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, REPO_ROOT, ServiceProcess, testPrefix } from '@cdp/testing';
import type { EventWriter } from './workload';

/** The Prometheus counter of committed identity resolutions (one per newly stored tracking call). */
export const RESOLUTIONS_METRIC = 'collection_identity_resolutions_total';

export interface Drained {
  /** Events the counter says were stored during the window. */
  persisted: number;
  /** Seconds from `since` until the last progress seen. */
  seconds: number;
  /** complete: all expected stored; stalled: no progress for the idle time; bound: the wait's limit was reached. */
  ended: 'complete' | 'stalled' | 'bound';
}

/** A workspace and its write key in a fresh database, made by the collection's bootstrap CLI. */
export function bootstrapWorkspace(databaseUrl: string): { writeKey: string; workspaceId: string } {
  return JSON.parse(
    execFileSync(
      process.execPath,
      [join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'), '--workspace', 'bench', '--json'],
      { env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' },
    ),
  ) as { writeKey: string; workspaceId: string };
}

/**
 * CPU niceness of the worker tier. On a host it shares with the API tier (here, 2 cores for both
 * tiers, Postgres, NATS and the load generator), the worker yields the CPU to the API tier, whose
 * answers a client waits for; what it cannot store at once waits on the durable stream. Ops do the
 * same with `Nice=` in a systemd unit, or with separate nodes or CPU requests in Kubernetes.
 */
export const WORKER_NICE = 10;

/**
 * API-tier processes. A Node process runs its JavaScript on one core; on 2 cores ops run one per
 * core behind the load balancer (Kubernetes replicas behind an L4 Service), here the load
 * generator spreads its connections over them the same way.
 */
export const API_REPLICAS = 2;

/**
 * A fresh collection for one benchmark phase: its own database (migrated), NATS prefix (so its
 * own streams), workspace and processes, as ops would run it on more than one core: the API
 * tier (API_REPLICAS processes, CONSUMERS=false: tracking API, publishes to JetStream) and the
 * worker tier (consumers: identity resolution, persistence, announcements). One Node process uses
 * one core; the split lets the API answer while the worker stores. Phases never share a backlog, so no
 * figure includes the previous phase's queued events.
 */
export class CollectionStack {
  private constructor(
    readonly prefix: string,
    readonly database: TestDatabase,
    readonly pg: Client,
    readonly writeKey: string,
    readonly workspaceId: string,
    /** The API tier: what clients talk to, API_REPLICAS processes. */
    readonly apis: ServiceProcess[],
    /** The worker tier: consumers that resolve identities and store. */
    readonly worker: ServiceProcess,
  ) {}

  static async start(label: string): Promise<CollectionStack> {
    const prefix = testPrefix(`bench${label}`);
    const database = await createTestDatabase(`cdp_bench_${prefix}`);
    const pg = new Client({ connectionString: database.url });
    await pg.connect();
    const keys = bootstrapWorkspace(database.url);
    const env = {
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '20',
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    };
    const apis: ServiceProcess[] = [];
    for (let i = 0; i < API_REPLICAS; i++)
      apis.push(new ServiceProcess('collection', await freePort(), { ...env, CONSUMERS: 'false' }));
    // One lane: on the host it shares with the API tier, the worker's Postgres work (which nice
    // does not reach) should also leave room for the calls clients wait for (apps/collection README).
    const worker = new ServiceProcess(
      'collection',
      await freePort(),
      { ...env, INGEST_LANES: '1' },
      WORKER_NICE,
    );
    const stack = new CollectionStack(prefix, database, pg, keys.writeKey, keys.workspaceId, apis, worker);
    for (const api of apis) api.start();
    worker.start();
    try {
      await Promise.all([...apis.map((api) => api.ready()), worker.ready()]);
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  /** The first API replica (for one-off calls). */
  get url(): string {
    return this.apis[0]!.url;
  }

  /** Every API replica, for load spread over them. */
  get urls(): string[] {
    return this.apis.map((api) => api.url);
  }

  get authorization(): string {
    return `Basic ${Buffer.from(`${this.writeKey}:`).toString('base64')}`;
  }

  /** The identity-resolution counter from the worker tier's /metrics. */
  async resolutions(): Promise<number> {
    const text = await (await fetch(`${this.worker.url}/metrics`)).text();
    // `name{service="collection"} 10` (default labels) or `name 10`; summed over label sets.
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${RESOLUTIONS_METRIC}{`) || l.startsWith(`${RESOLUTIONS_METRIC} `))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  async countEvents(): Promise<number> {
    return Number(
      (await this.pg.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]?.n ?? 0,
    );
  }

  async countCustomers(): Promise<number> {
    return Number(
      (await this.pg.query<{ n: string }>('SELECT count(*)::text AS n FROM customers')).rows[0]?.n ?? 0,
    );
  }

  /**
   * Waits until `expected` more resolutions (= newly stored events) than `baseline` are counted,
   * progress stops for `idleMs`, or `maxMs` after `since` passed. Polls /metrics, not count(*),
   * so the wait does not load the database it is waiting for.
   */
  async drain(
    baseline: number,
    expected: number,
    since: number,
    maxMs: number,
    idleMs = 60_000,
  ): Promise<Drained> {
    let persisted = (await this.resolutions()) - baseline;
    let lastProgress = Date.now();
    const deadline = since + maxMs;
    while (persisted < expected && Date.now() - lastProgress < idleMs && Date.now() < deadline) {
      await sleep(500);
      const now = (await this.resolutions()) - baseline;
      if (now > persisted) lastProgress = Date.now();
      persisted = now;
    }
    const ended = persisted >= expected ? 'complete' : Date.now() >= deadline ? 'bound' : 'stalled';
    return { persisted, seconds: (lastProgress - since) / 1000, ended };
  }

  /**
   * Stores one event for each of `known` people (user-0 ...), so most measured events find their
   * customer; waits (at most `maxMs`) until all are stored, so the phase starts without a backlog.
   * Returns how many were still queued when the wait ended (0 normally).
   */
  async seedKnownPeople(writer: EventWriter, known: number, maxMs: number): Promise<number> {
    const baseline = await this.resolutions();
    const since = Date.now();
    const timestamp = new Date().toISOString();
    for (let from = 0; from < known; from += 100) {
      const events = Array.from({ length: Math.min(100, known - from) }, (_, i) =>
        writer.event(`user-${from + i}`, timestamp),
      );
      const res = await fetch(`${this.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: `{"batch":[${events.join(',')}]}`,
      });
      if (res.status !== 200) throw new Error(`seeding failed: HTTP ${res.status} ${await res.text()}`);
    }
    const seeded = await this.drain(baseline, known, since, maxMs);
    if (seeded.ended !== 'complete')
      console.warn(
        `    seeding stored only ${seeded.persisted} of ${known} known people in ${seeded.seconds.toFixed(0)} s; the rest is counted out of the phase's figures (a smaller --known avoids it)`,
      );
    return Math.max(0, known - seeded.persisted);
  }

  /** Stops both tiers. */
  async stopProcesses(): Promise<void> {
    await Promise.all([...this.apis.map((api) => api.stop()), this.worker.stop()]);
  }

  /** Stops the processes and removes everything the phase created: streams, Redis keys, database. */
  async stop(): Promise<void> {
    await this.stopProcesses();
    await this.pg.end().catch(() => undefined);
    await cleanUpRun(this.prefix);
    await this.database.drop();
  }
}
