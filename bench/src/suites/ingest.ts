import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { createTestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, REPO_ROOT, ServiceProcess, testPrefix } from '@cdp/testing';
import { rawJetStreamPublish } from '../raw/jetstream';
import { rawPostgresCopy, type EventRow } from '../raw/postgres-copy';
import type { BenchOptions, SuiteResult } from '../types';
import { People, trackEvent } from '../workload';

async function countEvents(pg: Client): Promise<number> {
  return Number((await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]?.n ?? 0);
}

/** Waits until `expected` events are stored, progress stops for `idleMs`, or `maxMs` passed; returns when the last one landed. */
async function drain(
  pg: Client,
  expected: number,
  idleMs = 20_000,
  maxMs = 120_000,
): Promise<{ stored: number; at: number }> {
  let stored = await countEvents(pg);
  let lastProgress = Date.now();
  const deadline = Date.now() + maxMs;
  while (stored < expected && Date.now() - lastProgress < idleMs && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await countEvents(pg);
    if (now > stored) lastProgress = Date.now();
    stored = now;
  }
  return { stored, at: lastProgress };
}

async function load(url: string, writeKey: string, path: string, body: () => unknown, opts: BenchOptions) {
  return autocannon({
    url,
    connections: opts.connections,
    duration: opts.duration,
    requests: [
      {
        method: 'POST',
        path,
        headers: {
          authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        setupRequest: (req) => ({ ...req, body: JSON.stringify(body()) }),
      },
    ],
  });
}

/** Collection ingest: single-event /v1/track and /v1/batch, with persistence and identity resolution running. */
export async function ingestSuite(opts: BenchOptions): Promise<SuiteResult> {
  const prefix = testPrefix('bench');
  const database = await createTestDatabase(`cdp_bench_${prefix}`);
  const pg = new Client({ connectionString: database.url });
  await pg.connect();
  const keys = JSON.parse(
    execFileSync(
      process.execPath,
      [join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'), '--workspace', 'bench', '--json'],
      {
        env: { ...process.env, DATABASE_URL: database.url },
        encoding: 'utf8',
      },
    ),
  ) as { writeKey: string; workspaceId: string };
  const collection = new ServiceProcess('collection', await freePort(), {
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '20',
    NATS_URL,
    NATS_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  });
  collection.start();
  const started = Date.now();
  const figures: SuiteResult['figures'] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown> = {};
  try {
    await collection.ready();
    const people = new People(10_000, 0.1);

    // 1. Single-event requests.
    const before = await countEvents(pg);
    const loadStart = Date.now();
    const track = await load(
      collection.url,
      keys.writeKey,
      '/v1/track',
      () => trackEvent(people.next()),
      opts,
    );
    const accepted = track['2xx'];
    const drained = await drain(pg, before + accepted);
    const persistSeconds = (drained.at - loadStart) / 1000;
    raw.track = {
      requests: track.requests,
      latency: track.latency,
      accepted,
      non2xx: track.non2xx,
      errors: track.errors,
      timeouts: track.timeouts,
      stored: drained.stored - before,
      persistSeconds,
    };
    const customers = Number(
      (await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM customers')).rows[0]?.n ?? 0,
    );
    raw.customers = customers;

    // Raw limits in the same run: JetStream publish of ~1 KB messages, COPY of the same rows.
    const sample = JSON.stringify(trackEvent('user-1'));
    const jetstream = await rawJetStreamPublish({
      prefix: `${prefix}_raw`,
      messages: Math.min(Math.max(accepted, 20_000), 200_000),
      bytes: Buffer.byteLength(sample),
      window: 1000,
    });
    const rows: EventRow[] = Array.from({ length: Math.min(Math.max(accepted, 20_000), 200_000) }, (_, i) => {
      const e = trackEvent(`user-${i % 10_000}`);
      return {
        workspaceId: keys.workspaceId,
        messageId: `copy-${i}`,
        name: e.event,
        properties: JSON.stringify(e.properties),
        context: JSON.stringify(e.context),
        occurredAt: e.timestamp,
        receivedAt: e.timestamp,
      };
    });
    const copy = await rawPostgresCopy(database.url, rows);
    raw.jetstream = jetstream;
    raw.postgresCopy = copy;

    figures.push(
      {
        name: '/v1/track single-event requests',
        value: track.requests.average,
        unit: 'req/s',
        target: '>= 4,000 at p99 <= 10 ms',
        limit: {
          name: 'JetStream async publish (1 KB, window 1000)',
          value: jetstream.perSecond,
          unit: 'req/s',
        },
      },
      { name: '/v1/track latency p50', value: track.latency.p50, unit: 'ms' },
      { name: '/v1/track latency p99', value: track.latency.p99, unit: 'ms', target: '<= 10 ms' },
      {
        name: 'events persisted (identity resolved, stored)',
        value: (drained.stored - before) / persistSeconds,
        unit: 'events/s',
        limit: { name: 'Postgres COPY of the same rows', value: copy.perSecond, unit: 'events/s' },
      },
      {
        name: 'identity resolutions',
        value: (drained.stored - before) / persistSeconds,
        unit: 'resolutions/s',
      },
    );
    notes.push(
      `${opts.connections} connections for ${opts.duration} s; ~${Buffer.byteLength(sample)} B events; 10% from new people (${customers.toLocaleString('en-US')} customers at the end).`,
      `${accepted.toLocaleString('en-US')} requests got 2xx, ${(drained.stored - before).toLocaleString('en-US')} events stored${drained.stored - before < accepted ? ' (the rest were still queued on the durable stream when the measurement window closed)' : ''}; non-2xx ${track.non2xx}, errors ${track.errors}.`,
      'Every figure shares the 2 cores with its load generator (autocannon) and the local Postgres/NATS.',
    );
  } finally {
    await collection.stop();
    await pg.end();
    await cleanUpRun(prefix);
    await database.drop();
  }
  return {
    suite: 'Collection ingest',
    description:
      'Collection as its own process on the local Postgres and NATS; autocannon drives the HTTP API.',
    durationSeconds: (Date.now() - started) / 1000,
    figures,
    notes,
    raw,
  };
}
