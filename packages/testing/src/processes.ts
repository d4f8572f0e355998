import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

/**
 * The V8 flags every service runs with, as in the apps' start scripts and the Dockerfile's CMD.
 * A 32 MB semi-space halves the young-generation collections of a busy service: ~7% less CPU per
 * SMS in the delivery benchmark, for at most ~32 MB more memory.
 */
export const SERVICE_V8_FLAGS = ['--max-semi-space-size=32'];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}` : ''}`,
  );
}

/** Secrets services require; test-only values (infra provides real ones). */
export const TEST_SECRETS: Record<string, string> = {
  NATIONAL_ID_HMAC_SECRET: 'test-only-national-id-master-secret-0123456789abcdef',
  DELIVERY_SECRET_KEYS: 'test:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
};

/** A service started from its build output as its own process, as ops would run it. */
export class ServiceProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    /**
     * CPU niceness (0-19) to run the process with, for a tier that must yield the CPU to a
     * latency-critical one on the same host (as `Nice=` in a systemd unit would).
     */
    private readonly nice = 0,
  ) {}

  /** OS process id while running (e.g. to sample its memory from /proc). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): void {
    // SERVICE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles services under a benchmark.
    const nodeArgs = process.env.SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const command = [process.execPath, ...SERVICE_V8_FLAGS, ...nodeArgs, 'dist/main.js'];
    // `nice` execs node (same pid), so every thread, the GC's included, starts at that priority.
    const [file, ...args] = this.nice ? ['nice', '-n', String(this.nice), ...command] : command;
    const child = spawn(file!, args, {
      cwd: join(REPO_ROOT, 'apps', this.name),
      env: { ...TEST_SECRETS, ...process.env, ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 500) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${this.name} /health/ready`,
      async () => {
        if (this.child?.exitCode !== null && this.child?.exitCode !== undefined)
          throw new Error(`${this.name} exited with ${this.child.exitCode}:\n${this.logs()}`);
        const res = await fetch(`${this.url}/health/ready`);
        return res.status === 200;
      },
      timeoutMs,
      200,
    );
  }

  /** Sends `signal` (default SIGKILL: a crash, nothing drained or flushed) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** Waits until the process ends by itself; resolves with the signal that ended it, if any. */
  async exit(timeoutMs = 30_000): Promise<NodeJS.Signals | null> {
    await waitFor(
      `${this.name} to exit`,
      () => Promise.resolve(this.child?.exitCode !== null || this.child?.signalCode !== null),
      timeoutMs,
    );
    return this.child?.signalCode ?? null;
  }

  /** SIGTERM and wait; resolves with the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const code = await this.exited!;
    clearTimeout(timer);
    return code;
  }

  logs(): string {
    return this.output.join('');
  }
}
