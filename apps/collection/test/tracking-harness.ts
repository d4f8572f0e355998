// An in-process collection service on the real local Postgres and NATS, for the tracking tests:
// its own database, its own NATS prefix, a bootstrapped workspace with a write key.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { streamName, Subjects } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase, type PrismaClient } from '@cdp/db';
import { createService, loadConfig } from '@cdp/service-kit';
import { collectionService } from '../src/service';
import { bootstrapWorkspace, type BootstrapResult } from '../src/workspaces/bootstrap-workspace';
import { TEST_SECRETS, freePort, cleanUpRun, NATS_URL, testPrefix } from '@cdp/testing';

export interface TrackingHarness {
  app: NestFastifyApplication;
  db: PrismaClient;
  keys: BootstrapResult;
  prefix: string;
  close(): Promise<void>;
}

export async function startCollection(
  label: string,
  env: Record<string, string> = {},
): Promise<TrackingHarness> {
  const prefix = testPrefix(label);
  const database = await createTestDatabase(`cdp_test_${prefix}`);
  const db = createPrismaClient(database.url);
  const keys = await bootstrapWorkspace(db, `ws-${label}`);
  const config = loadConfig(collectionService.configSchema, {
    DATABASE_URL: database.url,
    NATS_URL,
    NATS_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...TEST_SECRETS,
    ...env,
  });
  const app = await createService(collectionService, config);
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    db,
    keys,
    prefix,
    async close() {
      await app.close();
      await db.$disconnect();
      await cleanUpRun(prefix);
      await database.drop();
    },
  };
}

export function basicAuth(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

/** Rows in events per messageId of the workspace. */
export async function storedCounts(db: PrismaClient, workspaceId: string): Promise<Map<string, number>> {
  const rows = await db.event.groupBy({ by: ['messageId'], where: { workspaceId }, _count: { _all: true } });
  return new Map(rows.map((r) => [r.messageId, r._count._all]));
}

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every message of the run's ingest stream, in order. */
async function ingestStream(
  prefix: string,
): Promise<Array<{ subject: string; data: Uint8Array; json<T>(): T }>> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = streamName(prefix, 'INGEST');
    const info = await jsm.streams.info(stream);
    const out: Array<{ subject: string; data: Uint8Array; json<T>(): T }> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m) out.push(m);
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** The cdp.ingest.batch messages of the run's stream, in order: size and the calls' messageIds. */
export async function ingestBatchMessages(
  prefix: string,
): Promise<Array<{ bytes: number; messageIds: string[] }>> {
  return (await ingestStream(prefix))
    .filter((m) => m.subject.includes(Subjects.ingestBatchAccepted.name))
    .map((m) => ({
      bytes: m.data.length,
      messageIds: m.json<{ calls: Array<{ messageId: string }> }>().calls.map((c) => c.messageId),
    }));
}

/** Every accepted call stored in the run's stream (single and batch messages), in order. */
export async function acceptedPayloads(prefix: string): Promise<Record<string, any>[]> {
  return (await ingestStream(prefix)).flatMap((m) => {
    if (m.subject.includes(Subjects.ingestBatchAccepted.name))
      return m.json<{ calls: Record<string, any>[] }>().calls;
    return m.subject.includes(Subjects.ingestAccepted.name) ? [m.json<Record<string, any>>()] : [];
  });
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  answered: number;
}

/** Forwards every request to `target`; answers the first one 503 after the target handled it. */
export class LosingFirstAnswerProxy {
  readonly seen: SeenRequest[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
        ) as Record<string, string>;
        void fetch(`${this.target}${req.url}`, { method: req.method, headers, body })
          .then(async (upstream) => {
            const text = await upstream.text();
            const first = this.seen.length === 0;
            const status = first ? 503 : upstream.status;
            this.seen.push({
              method: req.method!,
              url: req.url!,
              headers: req.headers,
              body,
              answered: status,
            });
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(first ? '{"message":"lost answer"}' : text);
          })
          .catch(() => {
            res.writeHead(502);
            res.end();
          });
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
