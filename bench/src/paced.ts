import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface PacedResult {
  /** Requests per second asked for, and what was sent and answered. */
  targetRate: number;
  achievedRate: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Requests not yet answered when the run ended (counted as late, not in the percentiles). */
  unanswered: number;
  /** Requests never sent because 5 s worth of earlier ones were still unanswered (the rate was not held). */
  skipped: number;
  /** Latency from each request's scheduled start (coordinated omission corrected), ms. */
  latency: Percentiles;
  /** Latency from the moment the request was written (what a closed-loop tool reports), ms. */
  serviceTime: Percentiles;
  /**
   * How late the generator itself handed each request to the socket pool (timer lateness, GC, a
   * starved CPU), ms. It is part of `latency`; a high value means the generator, not only the
   * service, was short of CPU.
   */
  sendLag: Percentiles;
  /** Requests due in the first second(s) are sent but left out of the percentiles (connections, JIT). */
  warmupSeconds: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

function percentiles(values: Float64Array): Percentiles {
  const sorted = values.slice().sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p99_9: at(0.999),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/**
 * Open-loop load at a fixed rate, the wrk2 way: request i is due at start + i/rate whether or not
 * earlier answers came back, runs on one of `connections` keep-alive sockets (queued in the agent
 * while all are busy), and its latency counts from when it was due. A closed-loop tool (autocannon,
 * including its overallRate mode, which sends each connection's per-second budget back to back and
 * then idles) waits for an answer before the next send, so a stall delays the sends it would have
 * measured and hides itself: coordinated omission. Here a stall shows up in every request it delays.
 */
export async function pacedLoad(opts: {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: () => string;
  rate: number;
  connections: number;
  seconds: number;
}): Promise<PacedResult> {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const total = Math.round(opts.rate * opts.seconds);
  const latency = new Float64Array(total);
  const serviceTime = new Float64Array(total);
  const sendLag = new Float64Array(total);
  const warmupSeconds = Math.min(2, opts.seconds / 10);
  const firstMeasured = Math.round(opts.rate * warmupSeconds);
  let measured = 0;
  let sent = 0;
  let answered = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let skipped = 0;
  const start = performance.now() + 50;
  const intervalMs = 1000 / opts.rate;

  const fire = (i: number) => {
    const due = start + i * intervalMs;
    const lag = performance.now() - due;
    const body = opts.body();
    let written = 0;
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: opts.path,
        headers: { ...opts.headers, 'content-length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const now = performance.now();
          if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) {
            ok++;
            if (i >= firstMeasured) {
              latency[measured] = now - due;
              serviceTime[measured] = now - written;
              sendLag[measured] = lag;
              measured++;
            }
          } else non2xx++;
          answered++;
        });
      },
    );
    req.on('socket', () => {
      written = performance.now();
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors++;
      answered++;
    });
    req.end(body);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; sent < due; sent++) {
        // Bounded backlog: past 5 s of unanswered requests the rate is lost anyway; stop piling on.
        if (sent - skipped - answered > opts.rate * 5) skipped++;
        else fire(sent);
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 50);
  });
  const sendingSeconds = (performance.now() - start) / 1000;
  // Give late answers a bounded grace period; whatever is still missing is reported as unanswered.
  const grace = performance.now() + 10_000;
  while (answered < sent - skipped && performance.now() < grace) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
  return {
    targetRate: opts.rate,
    achievedRate: ok / sendingSeconds,
    sent: sent - skipped,
    ok,
    non2xx,
    errors,
    unanswered: sent - skipped - answered,
    skipped,
    latency: percentiles(latency.subarray(0, measured)),
    serviceTime: percentiles(serviceTime.subarray(0, measured)),
    sendLag: percentiles(sendLag.subarray(0, measured)),
    warmupSeconds,
  };
}
