import { setTimeout as sleep } from 'node:timers/promises';
import { testPrefix, cleanUpRun } from '@cdp/testing';
import { API_REPLICAS, CollectionStack, WORKER_NICE, type Drained } from '../collection';
import { pacedLoad, type PacedResult } from '../paced';
import { spreadAutocannon } from '../spread';
import { rawJetStreamPublish } from '../raw/jetstream';
import { rawPostgresCopy } from '../raw/postgres-copy';
import { measureCpuNoise } from '../raw/cpu-noise';
import { rawHttpFloor, rawPacedPublish } from '../raw/fixed-rate';
import type { BenchOptions, Figure, SuiteResult } from '../types';
import { EventWriter, NEW_PEOPLE_SHARE, trackEvent } from '../workload';

const num = (n: number) => Math.round(n).toLocaleString('en-US');
/** Seconds of load at the fixed rate before the measured ones (not counted in the latencies). */
const TRACK_WARMUP_SECONDS = 15;
/** Pause between the warm-up and the measured run, so the warm-up's last answers are in. */
const TRACK_SETTLE_MS = 2000;
/** Seconds the CPU-noise spinners run. */
const CPU_NOISE_SECONDS = 20;

/** What one phase left behind once its accepted events were (or were not) all stored. */
interface Persistence extends Drained {
  accepted: number;
  /** Seed events still queued when the load started (stored first, then subtracted from the figures). */
  seedBacklog: number;
  /** Rows in `events` beyond the seeded ones, counted at the end (the truth behind the counter). */
  stored: number;
  /** Committed identity resolutions during the window, from the collection's Prometheus counter. */
  resolutions: number;
  /** Customers created during the window (first sight of a new person). */
  newCustomers: number;
  perSecond: number;
  resolutionsPerSecond: number;
}

/**
 * One phase on a fresh collection (own database, streams and process), so no phase inherits
 * another's backlog: seed the known people, scrape the resolution counter, run the load, then
 * wait (bounded) until every accepted event is stored and scrape again.
 */
async function phase<T>(
  label: string,
  opts: BenchOptions,
  load: (stack: CollectionStack, writer: EventWriter) => Promise<{ result: T; accepted: number }>,
  after?: (stack: CollectionStack, persistence: Persistence) => Promise<void>,
): Promise<{ result: T; persistence: Persistence }> {
  const stack = await CollectionStack.start(label);
  try {
    const writer = new EventWriter(opts.knownPeople);
    console.log(`    ${label}: seeding ${num(opts.knownPeople)} known people`);
    const seedBacklog = await stack.seedKnownPeople(writer, opts.knownPeople, opts.drainSeconds * 1000);
    const seededEvents = await stack.countEvents();
    const seededCustomers = await stack.countCustomers();
    const baseline = await stack.resolutions();
    const since = Date.now();
    console.log(`    ${label}: load for ${opts.duration} s`);
    const { result, accepted } = await load(stack, writer);
    console.log(`    ${label}: ${num(accepted)} events accepted; waiting for them to be stored`);
    const drained = await stack.drain(baseline, accepted + seedBacklog, since, opts.drainSeconds * 1000);
    // The stream is consumed in order: a seed backlog was stored before the phase's own events.
    drained.persisted = Math.max(0, drained.persisted - seedBacklog);
    const resolutions = Math.max(0, (await stack.resolutions()) - baseline - seedBacklog);
    const persistence: Persistence = {
      ...drained,
      accepted,
      seedBacklog,
      stored: Math.max(0, (await stack.countEvents()) - seededEvents - seedBacklog),
      resolutions,
      newCustomers: (await stack.countCustomers()) - seededCustomers,
      perSecond: drained.persisted / drained.seconds,
      resolutionsPerSecond: resolutions / drained.seconds,
    };
    await stack.stopProcesses();
    if (after) await after(stack, persistence);
    return { result, persistence };
  } finally {
    await stack.stop();
  }
}

const persistedNote = (what: string, p: Persistence) =>
  `${what}: ${num(p.accepted)} events accepted, ${num(p.stored)} stored in ${p.seconds.toFixed(1)} s from the start of the load` +
  (p.ended === 'complete'
    ? ''
    : ` — the wait ended (${p.ended === 'bound' ? 'at its bound' : 'no progress for 60 s'}) with ${num(p.accepted - p.persisted)} still queued on the durable stream, so the rate is the consumer's sustained rate, not a completed drain`) +
  (p.seedBacklog
    ? `; ${num(p.seedBacklog)} seed events were still queued when the load started and are subtracted`
    : '') +
  `; ${num(p.resolutions)} identity resolutions, ${num(p.newCustomers)} new customers.`;

/** The fixed-rate /v1/track load: a warm-up at the rate, a pause, then the measured run. */
async function warmedUpTrackLoad(
  opts: BenchOptions,
  urls: string[],
  headers: Record<string, string>,
  writer: EventWriter,
): Promise<{ warmup: PacedResult; result: PacedResult }> {
  const paced = (seconds: number) =>
    pacedLoad({
      urls,
      path: '/v1/track',
      headers,
      body: () => writer.event(),
      rate: opts.trackRate,
      connections: opts.connections,
      seconds,
    });
  const warmup = await paced(TRACK_WARMUP_SECONDS);
  await sleep(TRACK_SETTLE_MS);
  return { warmup, result: await paced(opts.duration) };
}

/** The fixed-rate /v1/track load as the raw measures of raw/fixed-rate.ts take it. */
function rawTrackLoad(opts: BenchOptions) {
  const writer = new EventWriter(opts.knownPeople);
  return {
    rate: opts.trackRate,
    seconds: opts.duration,
    warmupSeconds: TRACK_WARMUP_SECONDS,
    body: () => writer.event(),
  };
}

/**
 * The raw limit of the fixed-rate figure (raw/fixed-rate.ts): one JetStream publish per call at
 * the same rate, paced the same way, with or without a store tier beside it.
 */
function rawTrackPublish(opts: BenchOptions, storing: boolean) {
  return rawPacedPublish({ ...rawTrackLoad(opts), ...(storing && { storeNice: WORKER_NICE }) });
}

/**
 * The design's floor of the fixed-rate figure (raw/fixed-rate.ts): bare API replicas over HTTP,
 * group commit to JetStream, a COPY store tier beside them, the same load.
 */
function rawTrackFloor(opts: BenchOptions) {
  return rawHttpFloor({
    ...rawTrackLoad(opts),
    storeNice: WORKER_NICE,
    replicas: API_REPLICAS,
    connections: opts.connections,
    settleMs: TRACK_SETTLE_MS,
  });
}

/** Collection ingest: /v1/track and /v1/batch with the persisting consumer and identity resolution running. */
export async function ingestSuite(opts: BenchOptions): Promise<SuiteResult> {
  const started = Date.now();
  const eventBytes = new EventWriter().eventBytes();
  const auth = (stack: CollectionStack) => ({
    authorization: stack.authorization,
    'content-type': 'application/json',
  });

  // 1. /v1/track, closed loop: each connection sends its next request when the answer arrives.
  const trackMax = await phase('track-max', opts, async (stack, writer) => {
    const result = await spreadAutocannon(stack.urls, {
      connections: opts.connections,
      duration: opts.duration,
      requests: [
        {
          method: 'POST',
          path: '/v1/track',
          headers: auth(stack),
          setupRequest: (req) => ({ ...req, body: writer.event() }),
        },
      ],
    });
    return { result, accepted: result['2xx'] };
  });

  // 2. /v1/track at a fixed rate, open loop (latency from each request's scheduled time), after a
  // warm-up at the same rate: a fresh process compiles its hot paths during the first seconds, and
  // the backlog that builds meanwhile would otherwise be measured as the service's latency.
  let warmup: PacedResult | undefined;
  const trackRate = await phase('track-rate', opts, async (stack, writer) => {
    const run = await warmedUpTrackLoad(opts, stack.urls, auth(stack), writer);
    warmup = run.warmup;
    return { result: run.result, accepted: run.warmup.ok + run.result.ok };
  });

  // 3. /v1/batch, closed loop; raw limits measured right after on the same database.
  let rejectedCalls = 0;
  let copy: Awaited<ReturnType<typeof rawPostgresCopy>> | undefined;
  const batch = await phase(
    'batch',
    opts,
    async (stack, writer) => {
      const result = await spreadAutocannon(stack.urls, {
        connections: opts.connections,
        duration: opts.duration,
        // A 100 KB batch on a busy machine can take longer than autocannon's 10 s default.
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/v1/batch',
            headers: auth(stack),
            setupRequest: (req) => ({ ...req, body: writer.batch(opts.batchSize) }),
            onResponse: (status, body) => {
              if (status === 200 && body.includes('"rejected"'))
                rejectedCalls += (JSON.parse(body) as { rejected: unknown[] }).rejected.length;
            },
          },
        ],
      });
      return { result, accepted: result['2xx'] * opts.batchSize - rejectedCalls };
    },
    async (stack, persistence) => {
      // The collection is stopped: COPY has the database to itself, like the consumer had it.
      const rows = Math.min(Math.max(persistence.accepted, 20_000), 500_000);
      // Rows come from a pool made beforehand, so COPY is not slowed by the runner building JSON.
      const pool = Array.from({ length: 1000 }, (_, k) => {
        const e = trackEvent(`user-${k % opts.knownPeople}`);
        return {
          workspaceId: stack.workspaceId,
          name: e.event,
          properties: JSON.stringify(e.properties),
          context: JSON.stringify(e.context),
          occurredAt: e.timestamp,
          receivedAt: e.timestamp,
        };
      });
      copy = await rawPostgresCopy(stack.database.url, rows, (i) => ({
        ...pool[i % pool.length]!,
        messageId: `copy-${i}`,
      }));
    },
  );
  if (!copy) throw new Error('the Postgres COPY limit was not measured');

  // Raw JetStream limit: async publishes of events of the same size, a window of 1,000 outstanding acks.
  const rawPrefix = testPrefix('benchraw');
  let jetstream: Awaited<ReturnType<typeof rawJetStreamPublish>>;
  try {
    jetstream = await rawJetStreamPublish({
      prefix: rawPrefix,
      messages: Math.min(Math.max(batch.persistence.accepted, 50_000), 500_000),
      bytes: eventBytes,
      window: 1000,
    });
  } finally {
    await cleanUpRun(rawPrefix);
  }

  // Raw latency limits of the fixed-rate figure, and what the machine itself takes from busy CPUs.
  console.log('    raw: bare API replicas over HTTP at the fixed rate, a store tier storing');
  const floor = await rawTrackFloor(opts);
  console.log('    raw: JetStream publishes at the fixed rate, a store tier storing them');
  const rawStoring = await rawTrackPublish(opts, true);
  console.log('    raw: JetStream publishes at the fixed rate, nothing storing');
  const rawAlone = await rawTrackPublish(opts, false);
  console.log(`    CPU noise: one spinner per CPU for ${CPU_NOISE_SECONDS} s`);
  const noise = await measureCpuNoise(CPU_NOISE_SECONDS);

  const jetstreamLimit = {
    name: `JetStream async publish (${eventBytes} B, window 1,000)`,
    value: jetstream.perSecond,
    unit: 'events/s',
  };
  const floorLimit = {
    name: `bare API replicas (node:http, group commit to JetStream) at the same rate, a COPY store tier storing`,
    unit: 'ms',
  };
  const copyLimit = { name: 'Postgres COPY of the same rows', value: copy.perSecond, unit: 'events/s' };
  const batchSeconds = batch.result.duration;
  const tm = trackMax.result;
  const tr = trackRate.result;
  const figures: Figure[] = [
    {
      name: `/v1/batch events accepted (${opts.batchSize} per request)`,
      value: batch.persistence.accepted / batchSeconds,
      unit: 'events/s',
      target: '>= 20,000',
      limit: jetstreamLimit,
    },
    {
      name: '/v1/batch events persisted',
      value: batch.persistence.perSecond,
      unit: 'events/s',
      limit: copyLimit,
    },
    {
      name: 'identity resolutions (during /v1/batch)',
      value: batch.persistence.resolutionsPerSecond,
      unit: 'resolutions/s',
    },
    {
      name: `/v1/track at a fixed ${num(opts.trackRate)} req/s: achieved`,
      value: tr.achievedRate,
      unit: 'req/s',
      target: `>= ${num(4000)}`,
      limit: jetstreamLimit,
      eventsEach: 1,
    },
    {
      name: '/v1/track at the fixed rate: p50',
      value: tr.latency.p50,
      unit: 'ms',
      limit: { ...floorLimit, value: floor.latency.p50 },
    },
    {
      name: '/v1/track at the fixed rate: p99',
      value: tr.latency.p99,
      unit: 'ms',
      target: '<= 10 ms',
      limit: { ...floorLimit, value: floor.latency.p99 },
    },
    {
      name: '/v1/track at the fixed rate: p99.9',
      value: tr.latency.p99_9,
      unit: 'ms',
      limit: { ...floorLimit, value: floor.latency.p99_9 },
    },
    {
      name: 'raw: JetStream publish of each call at the fixed rate, a COPY store tier storing them: p99',
      value: rawStoring.latency.p99,
      unit: 'ms',
    },
    {
      name: 'raw: JetStream publish of each call at the fixed rate, nothing storing: p99',
      value: rawAlone.latency.p99,
      unit: 'ms',
    },
    {
      name: `machine: time a busy process loses to the host (one spinner per CPU, ${CPU_NOISE_SECONDS} s)`,
      value: noise.lostShare * 100,
      unit: '%',
    },
    { name: 'machine: longest such stall', value: noise.maxGapMs, unit: 'ms' },
    {
      name: '/v1/track closed loop (max throughput)',
      value: tm['2xx'] / tm.duration,
      unit: 'req/s',
      limit: jetstreamLimit,
      eventsEach: 1,
    },
    { name: '/v1/track closed loop: p50 (slower replica)', value: tm.latency.p50, unit: 'ms' },
    { name: '/v1/track closed loop: p99 (slower replica)', value: tm.latency.p99, unit: 'ms' },
    {
      name: '/v1/track events persisted (closed-loop phase)',
      value: trackMax.persistence.perSecond,
      unit: 'events/s',
      limit: copyLimit,
    },
    {
      name: 'identity resolutions (closed-loop /v1/track)',
      value: trackMax.persistence.resolutionsPerSecond,
      unit: 'resolutions/s',
    },
  ];
  const notes = [
    `Workload: ${opts.connections} connections, ${opts.duration} s of load per phase; track calls of ${eventBytes} B shaped like a bank's web SDK; ${NEW_PEOPLE_SHARE * 100}% from people never seen before, the rest from ${num(opts.knownPeople)} known people stored before the load starts (so identity resolution mostly finds an existing customer).`,
    'Each phase runs on a fresh collection (own database, JetStream streams and process), so no phase inherits another one\'s backlog. The persisting consumer and identity resolution run during the load, as in production; "persisted" counts from the start of the load until the last accepted event is stored (or the bounded wait ends).',
    `Identity resolutions come from the collection's Prometheus counter \`collection_identity_resolutions_total\`, scraped at the start of the load and at the end of the persistence window; every newly stored event is resolved to a customer, so it tracks the persisted rate.`,
    `/v1/batch: ${opts.batchSize} events (~${num((opts.batchSize * eventBytes) / 1024)} KB, limit 500 KB) per request; accepted = 2xx answers × ${opts.batchSize} − calls the answers list as rejected (${num(rejectedCalls)}); non-2xx ${batch.result.non2xx}, errors ${batch.result.errors}.`,
    `Latency at a fixed rate: an open-loop generator (bench/src/paced.ts) schedules request i at start + i/${num(opts.trackRate)} s on ${opts.connections} keep-alive connections and measures from the scheduled time, so a stall counts against every request it delays. autocannon is closed loop per connection (the next send waits for the answer), which hides stalls (coordinated omission); its overallRate mode sends each connection's per-second budget back to back and then idles, and its correction assumes a 1 ms interval, so it is used only for the max-throughput phases, whose latencies are service times under saturation. There, one autocannon per API replica takes half the connections; requests/s are summed, and each latency percentile shown is the slower replica's (an upper bound of the merged one).`,
    `Fixed-rate warm-up: the fresh collection first takes ${TRACK_WARMUP_SECONDS} s of the same load (the JIT compiles the hot paths; ${num(warmup?.ok ?? 0)} calls answered, p50 ${warmup?.latency.p50.toFixed(1)} ms, p99 ${warmup?.latency.p99.toFixed(0)} ms, slowest second ${warmup?.worstSeconds[0]?.second}: ${warmup?.worstSeconds[0]?.maxMs.toFixed(0)} ms), then ${TRACK_SETTLE_MS / 1000} s of rest; those calls count as accepted and stored, not in the latencies. The worker tier goes on storing the warm-up's calls during the measured run.`,
    `Fixed-rate counts: sent ${num(tr.sent)}, 2xx ${num(tr.ok)}, non-2xx ${tr.non2xx}, errors ${tr.errors}, unanswered at the end ${num(tr.unanswered)}, not sent because 5 s of requests were outstanding ${num(tr.skipped)}. The percentiles cover answered requests, so they hold only when the achieved rate meets the target. Requests due in the first ${tr.warmupSeconds} s (connection set-up, JIT) are left out of the percentiles. Service time (from the write) p50 ${tr.serviceTime.p50.toFixed(2)} ms, p99 ${tr.serviceTime.p99.toFixed(2)} ms; the generator's own send lag (part of the latency: timers, GC, CPU shared with the service) p50 ${tr.sendLag.p50.toFixed(2)} ms, p99 ${tr.sendLag.p99.toFixed(2)} ms. Slowest seconds of the run (second: slowest answer): ${tr.worstSeconds.map((w) => `${w.second}: ${w.maxMs.toFixed(0)} ms`).join(', ')}.`,
    persistedNote('Closed-loop /v1/track', trackMax.persistence),
    persistedNote(`Fixed-rate /v1/track`, trackRate.persistence),
    persistedNote('/v1/batch', batch.persistence),
    `Raw limits, same run, after the load phases with the collection stopped: JetStream async publish of ${num(jetstream.messages)} messages of ${eventBytes} B (one message per event; the collection publishes a /v1/batch request as one message per slice of up to 1,000 calls and group-commits single calls, so its events/s can pass this limit) to a file-storage stream with 1,000 acks outstanding; Postgres COPY of ${num(copy.rows)} rows of the same shape into the events table of the /v1/batch phase's database (same indexes, already holding that phase's rows). Ratios compare events/s with events/s.`,
    `The design's floor of the fixed-rate figure, same run, after the load phases with the collection stopped: ${API_REPLICAS} bare API processes (bench/src/raw/bare-api.ts: node:http, JSON.parse, the calls of one event-loop turn published as one JetStream message, each answered 200 after its PubAck; no auth, checks, normalisation, logging or metrics) take the same paced load from the same generator (${TRACK_WARMUP_SECONDS} s warm-up, ${TRACK_SETTLE_MS / 1000} s of rest, then ${opts.duration} s measured), while a store tier at niceness ${WORKER_NICE} (bench/src/raw/store-tier.ts) pulls 250 messages at a time, COPYs their calls into a migrated events table and acks them, as the worker tier stores beside the API tier: p50 ${floor.latency.p50.toFixed(2)} ms, p99 ${floor.latency.p99.toFixed(2)} ms, p99.9 ${floor.latency.p99_9.toFixed(2)} ms, max ${floor.latency.max.toFixed(1)} ms, ${num(floor.acked)} of ${num(floor.result.sent)} answered 2xx, ${num(floor.stored)} of ${num(floor.published)} calls stored when the load ended. It is what any API under the rule that a 2xx follows the JetStream ack costs on this machine beside storing that does no work per event (no identity resolution, dedup or profile); the latency rows' ratios are the collection's over it (100%: as fast as the floor).`,
    `Raw JetStream latency, same run: the benchmark process publishes the same calls (${eventBytes} B) to a file-storage stream, one message per call with its messageId as Nats-Msg-Id, paced at ${num(opts.trackRate)}/s (${TRACK_WARMUP_SECONDS} s warm-up, then ${opts.duration} s measured), and times each from its scheduled moment to its PubAck (no HTTP, no group commit). Beside the same store tier: p50 ${rawStoring.latency.p50.toFixed(2)} ms, p99 ${rawStoring.latency.p99.toFixed(2)} ms, p99.9 ${rawStoring.latency.p99_9.toFixed(2)} ms, max ${rawStoring.latency.max.toFixed(1)} ms, ${num(rawStoring.stored)} of ${num(rawStoring.published)} calls stored when the publishing ended. Nothing storing: p50 ${rawAlone.latency.p50.toFixed(2)} ms, p99 ${rawAlone.latency.p99.toFixed(2)} ms, p99.9 ${rawAlone.latency.p99_9.toFixed(2)} ms, max ${rawAlone.latency.max.toFixed(1)} ms.`,
    `Machine noise, same run, nothing else of the benchmark running: one process per CPU reads the clock in a loop for ${CPU_NOISE_SECONDS} s; a gap of 0.5 ms or more between two readings is time it did not run. They lost ${(noise.lostShare * 100).toFixed(2)}% of their time in ${num(noise.gaps)} such gaps, ${(noise.over10msShare * 100).toFixed(2)}% in gaps of 10 ms or more, the longest ${noise.maxGapMs.toFixed(1)} ms. A request that arrives in such a gap waits it out, so on a machine whose CPUs the load keeps busy this is a floor under the tail latency no service code removes.`,
    'Every figure shares the 2 cores with its load generator and the local Postgres and NATS; other work on the machine during the run adds noise.',
  ];
  return {
    suite: 'Collection ingest',
    description: `The collection on the local Postgres and NATS as ${API_REPLICAS + 1} processes, an API tier of ${API_REPLICAS} replicas (CONSUMERS=false; the load generators spread their connections over them evenly, as an L4 load balancer would) and a worker tier (the persisting consumer: identity resolution, events table), running at the same time; driven over HTTP. The worker tier runs at CPU niceness ${WORKER_NICE} with one batch lane (INGEST_LANES=1): on a host it shares with the API tier it yields the CPU, and leaves Postgres, to the calls clients wait for, and stores what it could not at once from the durable stream (the persisted figures show what that costs it).`,
    durationSeconds: (Date.now() - started) / 1000,
    figures,
    notes,
    raw: {
      eventBytes,
      trackClosedLoop: {
        requests: tm.requests,
        latency: tm.latency,
        ok: tm['2xx'],
        non2xx: tm.non2xx,
        errors: tm.errors,
        timeouts: tm.timeouts,
        duration: tm.duration,
        persistence: trackMax.persistence,
      },
      trackFixedRate: { ...tr, persistence: trackRate.persistence },
      batch: {
        requests: batch.result.requests,
        latency: batch.result.latency,
        ok: batch.result['2xx'],
        non2xx: batch.result.non2xx,
        errors: batch.result.errors,
        timeouts: batch.result.timeouts,
        duration: batch.result.duration,
        eventsPerRequest: opts.batchSize,
        rejectedCalls,
        persistence: batch.persistence,
      },
      jetstream,
      postgresCopy: copy,
      rawTrackFixedRate: { floor, storing: rawStoring, nothingStoring: rawAlone },
      cpuNoise: noise,
    },
  };
}
