import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, REPO_ROOT, ServiceProcess, testPrefix } from '@cdp/testing';

export interface BootstrapKeys {
  workspaceId: string;
  sourceId: string;
  writeKey: string;
  apiKey: string;
}

export interface ApiAnswer {
  status: number;
  /** The JSON answer (any: tests read answers of many shapes). */
  body: any;
}

/**
 * Collection as ops run it, for e2e tests: its own database and NATS prefix, a workspace made
 * by the bootstrap CLI, the service as a separate process; `stop()` removes all of it.
 */
export class RunningCollection {
  private constructor(
    readonly prefix: string,
    readonly database: TestDatabase,
    readonly service: ServiceProcess,
    readonly keys: BootstrapKeys,
  ) {}

  static async start(
    label: string,
    options: { source?: string; env?: Record<string, string> } = {},
  ): Promise<RunningCollection> {
    const prefix = testPrefix(label);
    const database = await createTestDatabase(`cdp_e2e_${prefix}`);
    const boot = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'),
        '--workspace',
        label,
        '--source',
        options.source ?? 'default',
        '--json',
      ],
      { env: { ...process.env, DATABASE_URL: database.url }, encoding: 'utf8' },
    );
    let service: ServiceProcess | undefined;
    try {
      if (boot.status !== 0) throw new Error(`bootstrap failed (exit ${boot.status}): ${boot.stderr}`);
      const keys = JSON.parse(boot.stdout) as BootstrapKeys;
      service = new ServiceProcess('collection', await freePort(), {
        DATABASE_URL: database.url,
        NATS_URL,
        NATS_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        ...options.env,
      });
      service.start();
      await service.ready();
      return new RunningCollection(prefix, database, service, keys);
    } catch (error) {
      // Leave nothing behind when start-up fails: the suite's afterAll has no handle to clean up.
      await service?.stop().catch(() => undefined);
      await cleanUpRun(prefix);
      await database.drop();
      throw error;
    }
  }

  get url(): string {
    return this.service.url;
  }

  /** A management call with the workspace's API key. */
  async api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.keys.apiKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.status === 204 ? undefined : await res.json() };
  }

  /** A call authenticated with the source's write key (tracking API, webhooks). */
  async send(path: string, body: unknown): Promise<ApiAnswer> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${this.keys.writeKey}:`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /** SIGTERM, then the run's streams, Redis keys and database; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const code = await this.service.stop();
    await cleanUpRun(this.prefix);
    await this.database.drop();
    return code;
  }
}
