import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createTransport } from 'nodemailer';
import { Client } from 'pg';
import { Subjects, type PayloadOf } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase } from '@cdp/db';
import { JetStreamPublisher } from '@cdp/messaging';
import {
  cleanUpRun,
  frame,
  freePort,
  NATS_URL,
  REDIS_URL,
  ServiceProcess,
  SmtpSink,
  testPrefix,
} from '@cdp/testing';
import type { BenchOptions, SuiteResult } from '../types';

type Requested = PayloadOf<typeof Subjects.deliveryRequested>;

/** The service's defaults, used by the raw figures too so both sides have the same parallelism. */
const SMTP_POOL = 5;
const WORKER_CONCURRENCY = 10;
const PUBLISH_WINDOW = 1000;
/**
 * Untimed messages per channel before the measured ones, for the service and for each raw tool
 * alike: a fresh process runs its first seconds of work on code the JIT has not compiled yet.
 */
const WARMUP = { email: 2000, sms: 10_000 };
const BODY =
  'Hello {{ name }}, your statement for {{ month }} is ready. Sign in to see the details of every ' +
  'transaction, your balance and the offers picked for you this month. Questions? Just reply.';

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.round(n)));

/** Samples VmRSS of a process from /proc every `everyMs`; `stop()` returns the samples in MiB. */
function sampleRss(pid: number, everyMs = 250) {
  const samples: number[] = [];
  const read = () => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb) samples.push(Number(kb) / 1024);
    } catch {
      // the process is gone
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat; here indexed after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A provider API on localhost: answers every POST with 201 and a Twilio-like body, and counts.
 * It stands in for a provider on another host, yet runs on the same 2 cores as the service it
 * measures, so it is a minimal HTTP/1.1 responder on node:net (keep-alive, Content-Length bodies,
 * pipelined requests answered in order) rather than node:http, whose parser, request and response
 * objects cost more CPU per call than the rest of this process's work for it.
 */
async function httpSink(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const answer = () => {
    const body = `{"sid":"SM${(++count).toString(16).padStart(32, '0')}","status":"queued"}`;
    return `HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  };
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let answers = '';
      for (;;) {
        const message = frame(buffered);
        if (message === 'incomplete') break;
        if (message.total === undefined) {
          // Every provider call has a body of known length; anything else is a bug worth seeing.
          socket.end('HTTP/1.1 411 Length Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
          return;
        }
        buffered = buffered.subarray(message.total);
        answers += answer();
      }
      if (answers) socket.write(answers);
    });
    socket.on('error', () => socket.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return { port, count: () => count, close };
}

/** Requests per publishMany call: each call prepares its messages before the first goes out. */
const PUBLISH_CHUNK = 5000;

/**
 * Publishes requests as a campaign's fan-out would: JetStream publishes with up to
 * PUBLISH_WINDOW PubAcks outstanding, through the services' own publisher (@cdp/messaging's
 * pipelined publishMany, which costs this process, on the service's 2 cores, far less CPU per
 * message than one nats.js request each). Returns when the first went out.
 */
async function publishRequests(
  prefix: string,
  requests: Requested[],
): Promise<{ startedAt: number; seconds: number }> {
  const publisher = new JetStreamPublisher({ servers: NATS_URL, prefix, service: 'campaign', name: 'bench' });
  await publisher.connect();
  const startedAt = Date.now();
  for (let i = 0; i < requests.length; i += PUBLISH_CHUNK)
    await publisher.publishMany(
      requests.slice(i, i + PUBLISH_CHUNK).map((r) => ({
        subject: Subjects.deliveryRequested,
        payload: r,
        msgId: `req:${r.idempotencyKey}`,
        json: JSON.stringify(r),
      })),
      { window: PUBLISH_WINDOW },
    );
  const seconds = (Date.now() - startedAt) / 1000;
  await publisher.close();
  return { startedAt, seconds };
}

/**
 * Waits until every message whose idempotency key starts with `keyPrefix` is final (or progress
 * stops for `idleMs`); reads the ledger. While the receiving server still counts arrivals, it
 * watches that count (free) instead of the ledger: each read of the ledger scans the whole table,
 * and Postgres shares the 2 cores with the service measured (four reads a second once cost it a
 * tenth of a core).
 */
async function drainLedger(
  pg: Client,
  keyPrefix: string,
  expected: number,
  received: () => number,
  idleMs = 20_000,
  maxMs = 600_000,
) {
  const deadline = Date.now() + maxMs;
  let arrived = received();
  let lastArrival = Date.now();
  while (arrived < expected && Date.now() - lastArrival < 1000 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    if (received() > arrived) lastArrival = Date.now();
    arrived = received();
  }
  const read = async () => {
    const row = (
      await pg.query<{ sent: string; failed: string; queued: string; last: Date | null }>(
        `SELECT count(*) FILTER (WHERE status = 'sent')::text AS sent,
                count(*) FILTER (WHERE status IN ('failed', 'unknown'))::text AS failed,
                count(*) FILTER (WHERE status IN ('queued', 'sending'))::text AS queued,
                max(sent_at) AS last
           FROM messages WHERE idempotency_key LIKE $1`,
        [`${keyPrefix}%`],
      )
    ).rows[0]!;
    return { sent: Number(row.sent), failed: Number(row.failed), queued: Number(row.queued), last: row.last };
  };
  let state = await read();
  let lastProgress = Date.now();
  while (
    state.sent + state.failed < expected &&
    Date.now() - lastProgress < idleMs &&
    Date.now() < deadline
  ) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await read();
    if (now.sent + now.failed > state.sent + state.failed) lastProgress = Date.now();
    state = now;
  }
  return state;
}

/** Raw pooled nodemailer to the same SMTP server: `messages` mails, `window` in flight. */
async function rawNodemailer(port: number, messages: number, window = 100) {
  const transport = createTransport({ pool: true, host: '127.0.0.1', port, maxConnections: SMTP_POOL });
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < messages) {
      const i = next++;
      await transport.sendMail({
        from: 'Bench <bench@example.com>',
        to: `raw-${i}@example.com`,
        subject: 'Your statement',
        text: BODY.replace('{{ name }}', 'Ada').replace('{{ month }}', 'March'),
      });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (Date.now() - started) / 1000;
  transport.close();
  return { messages, poolSize: SMTP_POOL, window, seconds, perSecond: messages / seconds };
}

/** Raw BullMQ: no-op jobs added with addBulk, one worker with the service's concurrency. */
async function rawBullmq(prefix: string, jobs: number) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const name = 'raw-noop';
  const queue = new Queue(name, { connection, prefix: `bull:${prefix}` });
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = new Worker(
    name,
    // eslint-disable-next-line @typescript-eslint/require-await
    async () => {
      if (++done === jobs) finished();
    },
    { connection, prefix: `bull:${prefix}`, concurrency: WORKER_CONCURRENCY },
  );
  const started = Date.now();
  for (let i = 0; i < jobs; i += 1000)
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({
        name: 'noop',
        data: { i: i + k },
        opts: { removeOnComplete: true },
      })),
    );
  await all;
  const seconds = (Date.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  return { jobs, concurrency: WORKER_CONCURRENCY, seconds, perSecond: jobs / seconds };
}

/**
 * Delivery: emails to a local SMTP server and SMS to a local Twilio-speaking endpoint, requested
 * on cdp.delivery.requested as campaign would, counted from the ledger; each beside the raw tool
 * (pooled nodemailer, BullMQ no-op jobs) in the same run; the service's RSS sampled throughout.
 */
export async function deliverySuite(opts: BenchOptions): Promise<SuiteResult> {
  const prefix = testPrefix('benchdlv');
  const database = await createTestDatabase(`cdp_bench_${prefix}`);
  const prisma = createPrismaClient(database.url, { max: 2 });
  const pg = new Client({ connectionString: database.url });
  await pg.connect();
  const sink = new SmtpSink();
  const smtpPort = await freePort();
  await sink.listen(smtpPort);
  const http = await httpSink();
  const started = Date.now();
  const figures: SuiteResult['figures'] = [];
  const notes: string[] = [];
  const raw: Record<string, unknown> = {};

  const workspace = await prisma.workspace.create({
    data: { slug: `bench-${prefix}`, name: 'Delivery bench' },
  });
  const apiKey = `cdp_${randomBytes(16).toString('hex')}`;
  await prisma.apiKey.create({
    data: {
      workspaceId: workspace.id,
      name: 'bench',
      keyHash: createHash('sha256').update(apiKey).digest('hex'),
      prefix: apiKey.slice(0, 8),
      scopes: ['admin'],
    },
  });
  const emails = clamp(opts.duration * 400, 1000, 40_000);
  const sms = clamp(opts.duration * 2500, 5000, 150_000);
  // One customer per message of a phase, as a campaign run's fan-out has it.
  const { rows: customers } = await pg.query<{ id: string }>(
    `INSERT INTO customers (id, workspace_id, customer_code, updated_at)
     SELECT gen_random_uuid()::text, $1, 'B' || lpad(g::text, 15, '0'), now() FROM generate_series(1, $2) g
     RETURNING id`,
    [workspace.id, Math.max(emails, sms)],
  );
  const customerIds = customers.map((c) => c.id);

  const delivery = new ServiceProcess('delivery', await freePort(), {
    DATABASE_URL: database.url,
    NATS_URL,
    NATS_PREFIX: prefix,
    REDIS_URL,
    LOG_LEVEL: 'warn',
    SMTP_POOL_SIZE: String(SMTP_POOL),
    DELIVERY_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
  });
  delivery.start();
  let rss: ReturnType<typeof sampleRss> | undefined;
  try {
    await delivery.ready();
    rss = sampleRss(delivery.pid!);
    const putProvider = async (channel: string, body: unknown) => {
      const res = await fetch(`${delivery.url}/v1/providers/${channel}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 200)
        throw new Error(`PUT /v1/providers/${channel}: ${res.status} ${await res.text()}`);
    };
    // The workspace's own rate per provider account, far above what the machine does.
    await putProvider('email', {
      provider: 'smtp',
      settings: {
        host: '127.0.0.1',
        port: smtpPort,
        from: 'Bench <bench@example.com>',
        poolSize: SMTP_POOL,
        rateLimitPerSecond: 100_000,
      },
      secrets: {},
    });
    await putProvider('sms', {
      provider: 'twilio',
      settings: {
        accountSid: `AC${'0'.repeat(32)}`,
        from: '+15005550006',
        baseUrl: `http://127.0.0.1:${http.port}`,
        // As in production: status callbacks come to the delivery service's URL, naming our message id.
        statusCallbackUrl: 'https://cdp.example.com/v1/receipts/twilio',
        rateLimitPerSecond: 100_000,
      },
      secrets: { authToken: 'bench-token' },
    });
    const request = (phase: 'warmup' | 'run', channel: 'email' | 'sms', i: number): Requested => ({
      workspaceId: workspace.id,
      idempotencyKey: `bench:${phase}:${channel}:${i}`,
      customerId: customerIds[i]!,
      channel,
      recipient: channel === 'email' ? `c${i}@example.com` : `+4179${String(i).padStart(7, '0')}`,
      template: { subject: 'Your statement', body: BODY },
      variables: { name: 'Ada', month: 'March' },
      requestedAt: new Date().toISOString(),
    });

    // 0. Untimed: a fresh process compiles its hot paths during its first seconds of work.
    const warmup: Record<string, { sent: number; failed: number; seconds: number; perSecond: number }> = {};
    for (const [channel, count] of Object.entries(WARMUP) as ['email' | 'sms', number][]) {
      const arrived = () => (channel === 'email' ? sink.received.length : http.count());
      const arrivedBefore = arrived();
      const { startedAt } = await publishRequests(
        prefix,
        Array.from({ length: count }, (_, i) => request('warmup', channel, i)),
      );
      const ledger = await drainLedger(
        pg,
        `bench:warmup:${channel}:`,
        count,
        () => arrived() - arrivedBefore,
      );
      const seconds = ((ledger.last?.getTime() ?? Date.now()) - startedAt) / 1000;
      warmup[channel] = {
        sent: ledger.sent,
        failed: ledger.failed,
        seconds,
        perSecond: ledger.sent / seconds,
      };
    }
    sink.received.length = 0;
    raw.warmup = warmup;

    // 1. Email through the service, then raw pooled nodemailer to the same server.
    const mailsBefore = sink.received.length;
    const emailCpuBefore = cpuSeconds(delivery.pid!);
    const emailPublish = await publishRequests(
      prefix,
      Array.from({ length: emails }, (_, i) => request('run', 'email', i)),
    );
    const emailLedger = await drainLedger(
      pg,
      'bench:run:email:',
      emails,
      () => sink.received.length - mailsBefore,
    );
    const emailSeconds = ((emailLedger.last?.getTime() ?? Date.now()) - emailPublish.startedAt) / 1000;
    const emailsReceived = sink.received.length - mailsBefore;
    const emailCpu = cpuSeconds(delivery.pid!) - emailCpuBefore;
    sink.received.length = 0;
    await rawNodemailer(smtpPort, WARMUP.email);
    const nodemailer = await rawNodemailer(smtpPort, Math.min(emails, 20_000));
    sink.received.length = 0;
    raw.email = {
      requested: emails,
      publish: emailPublish,
      ledger: emailLedger,
      seconds: emailSeconds,
      received: emailsReceived,
      cpuSeconds: emailCpu,
    };
    raw.nodemailer = nodemailer;

    // 2. SMS (Twilio API) through the service, then raw BullMQ no-op jobs.
    const httpBefore = http.count();
    const smsCpuBefore = cpuSeconds(delivery.pid!);
    const smsPublish = await publishRequests(
      prefix,
      Array.from({ length: sms }, (_, i) => request('run', 'sms', i)),
    );
    const smsLedger = await drainLedger(pg, 'bench:run:sms:', sms, () => http.count() - httpBefore);
    const smsSeconds = ((smsLedger.last?.getTime() ?? Date.now()) - smsPublish.startedAt) / 1000;
    const smsReceived = http.count() - httpBefore;
    const smsCpu = cpuSeconds(delivery.pid!) - smsCpuBefore;
    await rawBullmq(prefix, WARMUP.sms);
    const bullmq = await rawBullmq(prefix, Math.min(Math.max(sms, 20_000), 100_000));
    raw.sms = {
      requested: sms,
      publish: smsPublish,
      ledger: smsLedger,
      seconds: smsSeconds,
      received: smsReceived,
      cpuSeconds: smsCpu,
    };
    raw.bullmq = bullmq;

    const samples = rss.stop();
    const maxRss = Math.max(...samples);
    raw.rssMiB = {
      max: maxRss,
      first: samples[0],
      last: samples[samples.length - 1],
      samples: samples.length,
    };

    figures.push(
      {
        name: 'emails sent (request on JetStream -> ledger -> SMTP)',
        value: emailLedger.sent / emailSeconds,
        unit: 'messages/s',
        target: '>= 80% of raw nodemailer',
        limit: {
          name: `pooled nodemailer, ${SMTP_POOL} connections, same server`,
          value: nodemailer.perSecond,
          unit: 'messages/s',
        },
      },
      {
        name: 'SMS sent (request on JetStream -> ledger -> Twilio API)',
        value: smsLedger.sent / smsSeconds,
        unit: 'messages/s',
        target: '>= 5,000',
        limit: {
          name: `BullMQ no-op jobs, concurrency ${WORKER_CONCURRENCY}, addBulk`,
          value: bullmq.perSecond,
          unit: 'messages/s',
        },
      },
      { name: 'delivery process CPU per email', value: (emailCpu * 1e6) / emails, unit: 'us' },
      { name: 'delivery process CPU per SMS', value: (smsCpu * 1e6) / sms, unit: 'us' },
      { name: 'delivery process RSS, max', value: maxRss, unit: 'MiB' },
    );
    const mismatch = (what: string, ledger: number, server: number) =>
      ledger === server
        ? `${what}: ledger and receiving server agree (${ledger.toLocaleString('en-US')} sent).`
        : `${what}: MISMATCH — ledger says ${ledger.toLocaleString('en-US')} sent, the receiving server counted ${server.toLocaleString('en-US')}.`;
    notes.push(
      `${emails.toLocaleString('en-US')} emails and ${sms.toLocaleString('en-US')} SMS requested (one workspace, one customer per message of a phase, one provider account per channel, its rate override set to 100,000/s); messages/s = sent / (first publish -> last sent_at in the ledger).`,
      mismatch('Email', emailLedger.sent, emailsReceived),
      mismatch('SMS', smsLedger.sent, smsReceived),
      `Not sent: email ${emailLedger.failed} failed/unknown, ${emailLedger.queued} still queued; SMS ${smsLedger.failed} failed/unknown, ${smsLedger.queued} still queued.`,
      `Requests published with JetStream async publishes (window ${PUBLISH_WINDOW}); the service ran its defaults: batch jobs of up to 50 messages, ${WORKER_CONCURRENCY} jobs at once per channel, SMTP pool ${SMTP_POOL}.`,
      `RSS of the delivery process sampled every 250 ms from /proc (${samples.length} samples): ${samples[0]?.toFixed(0)} MiB at the start, ${maxRss.toFixed(0)} MiB at most.`,
      'The SMTP server (smtp-server) and the HTTP endpoint run in the bench process, on the same 2 cores as the service, Postgres, Redis and NATS.',
      `Warm-up, not in the figures: the fresh service first sent ${WARMUP.email.toLocaleString('en-US')} emails and then ${WARMUP.sms.toLocaleString('en-US')} SMS (${Math.round(warmup.email?.perSecond ?? 0).toLocaleString('en-US')} and ${Math.round(warmup.sms?.perSecond ?? 0).toLocaleString('en-US')}/s, on code the JIT had yet to compile), and each raw tool ran the same number untimed before its measured run.`,
    );
  } finally {
    rss?.stop();
    await delivery.stop();
    // BENCH_DELIVERY_LOGS=1 prints the service's last output lines (what a profiling script logged).
    if (process.env.BENCH_DELIVERY_LOGS) process.stdout.write(delivery.logs());
    await http.close();
    await sink.close();
    await pg.end();
    await prisma.$disconnect();
    await cleanUpRun(prefix);
    await database.drop();
  }
  return {
    suite: 'Delivery',
    description:
      'Delivery as its own process on the local Postgres, Redis and NATS; requests published on cdp.delivery.requested, sends to a local SMTP server and a local Twilio-speaking HTTP endpoint.',
    durationSeconds: (Date.now() - started) / 1000,
    figures,
    notes,
    raw,
  };
}
