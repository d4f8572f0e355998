import { createConnection, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { frame } from '@cdp/testing';

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
  /** The five seconds of the run (counted from its start) whose slowest answer was slowest: when stalls happened. */
  worstSeconds: { second: number; maxMs: number }[];
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

export function percentiles(values: Float64Array): Percentiles {
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

/** One HTTP/1.1 answer read off a keep-alive socket. */
interface Answer {
  status: number;
}

/**
 * A keep-alive HTTP/1.1 connection that sends one request at a time and reads answers with
 * Content-Length bodies (all the collection sends). Hand-rolled because node:http's client cost
 * the generator ~90 us per request, CPU taken from the service it measures on the same 2 cores.
 */
class RawConnection {
  private socket?: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (a: Answer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

  private readonly host: string;
  private readonly port: number;
  /** Request line and fixed headers. */
  private readonly head: string;

  constructor(url: string, path: string, headers: Record<string, string>) {
    const target = new URL(url);
    this.host = target.hostname;
    this.port = Number(target.port);
    this.head =
      `POST ${path} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
  }

  private connect(): Socket {
    const socket = createConnection({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.parse();
    });
    const fail = (error: Error) => {
      if (this.socket === socket) this.socket = undefined;
      this.settle(undefined, error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return socket;
  }

  private parse(): void {
    const message = frame(this.buffered);
    if (message === 'incomplete') return;
    if (message.total === undefined) {
      this.socket?.destroy();
      this.settle(undefined, new Error(`answer without content-length: ${message.head.slice(0, 200)}`));
      return;
    }
    this.buffered = this.buffered.subarray(message.total);
    this.settle({ status: Number(message.head.slice(9, 12)) });
  }

  private settle(answer: Answer | undefined, error?: Error): void {
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    if (answer) waiting.resolve(answer);
    else waiting.reject(error ?? new Error('no answer'));
  }

  send(body: string, timeoutMs: number): Promise<Answer> {
    const request = `${this.head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    this.socket ??= this.connect();
    this.buffered = Buffer.alloc(0);
    const socket = this.socket;
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        this.settle(undefined, new Error('timeout'));
      }, timeoutMs);
      this.waiting = { resolve, reject, timer };
      socket.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

/**
 * Open-loop load at a fixed rate, the wrk2 way: request i is due at start + i/rate whether or not
 * earlier answers came back, runs on one of `connections` keep-alive sockets (spread over the replicas in `urls`, queued
 * while all are busy), and its latency counts from when it was due. A closed-loop tool (autocannon,
 * including its overallRate mode, which sends each connection's per-second budget back to back and
 * then idles) waits for an answer before the next send, so a stall delays the sends it would have
 * measured and hides itself: coordinated omission. Here a stall shows up in every request it delays.
 */
export async function pacedLoad(opts: {
  /** Replicas of the service; the connections are spread over them evenly. */
  urls: string[];
  path: string;
  headers: Record<string, string>;
  body: () => string;
  rate: number;
  connections: number;
  seconds: number;
}): Promise<PacedResult> {
  const idle = Array.from(
    { length: opts.connections },
    (_, i) => new RawConnection(opts.urls[i % opts.urls.length]!, opts.path, opts.headers),
  );
  const queue: number[] = [];
  const total = Math.round(opts.rate * opts.seconds);
  const latency = new Float64Array(total);
  const serviceTime = new Float64Array(total);
  const sendLag = new Float64Array(total);
  /** How late the tick loop took up each request (before any wait for a free connection). */
  const lateness = new Float64Array(total);
  const slowestBySecond = new Float64Array(Math.ceil(opts.seconds) + 1);
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

  const run = (connection: RawConnection, i: number) => {
    const due = start + i * intervalMs;
    const body = opts.body();
    const written = performance.now();
    connection.send(body, 30_000).then(
      ({ status }) => {
        const now = performance.now();
        if (status >= 200 && status < 300) {
          ok++;
          if (i >= firstMeasured) {
            latency[measured] = now - due;
            const second = Math.floor((due - start) / 1000);
            slowestBySecond[second] = Math.max(slowestBySecond[second] ?? 0, now - due);
            serviceTime[measured] = now - written;
            sendLag[measured] = lateness[i]!;
            measured++;
          }
        } else non2xx++;
        answered++;
        next(connection);
      },
      () => {
        errors++;
        answered++;
        next(connection);
      },
    );
  };
  const next = (connection: RawConnection) => {
    const i = queue.shift();
    if (i === undefined) idle.push(connection);
    else run(connection, i);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; sent < due; sent++) {
        // Bounded backlog: past 5 s of unanswered requests the rate is lost anyway; stop piling on.
        if (sent - skipped - answered > opts.rate * 5) skipped++;
        else {
          lateness[sent] = performance.now() - (start + sent * intervalMs);
          const connection = idle.pop();
          if (connection) run(connection, sent);
          else queue.push(sent);
        }
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
  for (const connection of idle) connection.close();
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
    worstSeconds: [...slowestBySecond]
      .map((maxMs, second) => ({ second, maxMs }))
      .sort((a, b) => b.maxMs - a.maxMs)
      .slice(0, 5),
  };
}
