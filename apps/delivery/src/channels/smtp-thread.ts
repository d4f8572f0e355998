import { Worker } from 'node:worker_threads';
import type { SendMailOptions } from 'nodemailer';
import { coalesceWritesPerTurn } from './coalesce-writes';

/** What the thread reports of one sendMail: its result, or the error's message and SMTP code. */
export type ThreadSendResult =
  | { info: { messageId: string; response: string; rejected?: unknown[] } }
  | { error: { message: string; responseCode?: number } };

/**
 * The thread's code: pooled nodemailer transports by pool id, one sendMail per request. Plain
 * JavaScript evaluated in the worker (no build step of its own, so it runs the same from `dist`
 * and under jest); nodemailer is required by the path this module resolved.
 */
const THREAD_SOURCE = `
const { Socket } = require('node:net');
const { parentPort } = require('node:worker_threads');
const { createTransport } = require(${JSON.stringify(require.resolve('nodemailer'))});

// nodemailer streams a message as several chunks (headers, body lines, the final dot): one writev.
${coalesceWritesPerTurn.toString()}

// nodemailer's getSocket: the connection it then uses (and upgrades to TLS where configured).
function connectCoalescing(options, callback) {
  const socket = new Socket();
  coalesceWritesPerTurn(socket);
  let settled = false;
  const settle = (error, result) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('error', settle);
    callback(error || null, result);
  };
  const timer = setTimeout(() => {
    socket.destroy();
    settle(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' }));
  }, options.connectionTimeout || 120000); // nodemailer's default
  socket.once('error', settle);
  socket.connect(options.port, options.host, () => settle(null, { connection: socket }));
}

const pools = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') pools.set(m.pool, createTransport({ ...m.options, getSocket: connectCoalescing }));
  else if (m.op === 'close') { pools.get(m.pool)?.close(); pools.delete(m.pool); }
  else if (m.op === 'send') {
    const transport = pools.get(m.pool);
    if (!transport) return parentPort.postMessage({ id: m.id, error: { message: 'SMTP pool is closed' } });
    transport.sendMail(m.mail).then(
      (info) => parentPort.postMessage({ id: m.id, info: { messageId: info.messageId, response: info.response, rejected: info.rejected } }),
      (e) => parentPort.postMessage({ id: m.id, error: { message: String((e && e.message) || e), responseCode: e && e.responseCode } }),
    );
  }
});
`;

/**
 * nodemailer's SMTP transports in a worker thread of their own. Building the MIME message and
 * speaking SMTP is most of an email's CPU; off the main thread, it no longer competes with the
 * ledger, the queues and NATS for one core (see the README's Benchmark section). One thread serves
 * every pool of the process; it starts with the first pool and ends with the last. A thread that
 * dies fails the sends under way with a transient error (retried by their jobs), and the next send
 * starts a new one that opens its pools again.
 */
export class SmtpThread {
  private static instance?: SmtpThread;

  private worker?: Worker;
  private readonly pools = new Map<number, Record<string, unknown>>();
  /** The pools the current worker has opened. */
  private opened = new Set<number>();
  private readonly pending = new Map<number, (result: ThreadSendResult) => void>();
  private nextPool = 1;
  private nextRequest = 1;

  /** The process's SMTP thread. */
  static shared(): SmtpThread {
    return (SmtpThread.instance ??= new SmtpThread());
  }

  /** Registers a pool (nodemailer transport options); returns its id. */
  open(options: Record<string, unknown>): number {
    const pool = this.nextPool++;
    this.pools.set(pool, options);
    return pool;
  }

  send(pool: number, mail: SendMailOptions): Promise<ThreadSendResult> {
    const worker = this.workerFor(pool);
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ op: 'send', pool, id, mail });
    });
  }

  /** Closes the pool's connections; the thread ends with the last pool. */
  close(pool: number): void {
    if (!this.pools.delete(pool)) return;
    if (this.opened.delete(pool)) this.worker?.postMessage({ op: 'close', pool });
    this.stopIfIdle();
  }

  private workerFor(pool: number): Worker {
    if (!this.worker) {
      const worker = new Worker(THREAD_SOURCE, { eval: true });
      worker.on('message', (m: { id: number } & ThreadSendResult) => {
        const resolve = this.pending.get(m.id);
        this.pending.delete(m.id);
        resolve?.(m);
        this.stopIfIdle();
      });
      const lost = (reason: string) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.opened = new Set();
        for (const resolve of this.pending.values()) resolve({ error: { message: reason } });
        this.pending.clear();
      };
      worker.on('error', (e) => lost(`SMTP thread failed: ${e.message}`));
      worker.on('exit', (code) => lost(`SMTP thread exited (${code})`));
      // Sends under way keep their callers waiting, not the process alive.
      worker.unref();
      this.worker = worker;
    }
    if (!this.opened.has(pool)) {
      const options = this.pools.get(pool);
      if (!options) throw new Error('SMTP pool is closed');
      this.worker.postMessage({ op: 'open', pool, options });
      this.opened.add(pool);
    }
    return this.worker;
  }

  /** No pool left and no send under way: the thread ends. */
  private stopIfIdle(): void {
    if (this.pools.size === 0 && this.pending.size === 0) void this.stop();
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.opened = new Set();
    await worker?.terminate();
  }
}
