import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { streamName, subjectFor, Subjects, type PayloadOf } from '@cdp/contracts';
import { createPrismaClient, createTestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, ServiceProcess, testPrefix } from '@cdp/testing';
import type { BenchOptions, SuiteResult } from '../types';

/** Stored events queued for analysis, and the customers they belong to. */
const EVENTS = 20_000;
const CUSTOMERS = 5_000;
const PUBLISH_WINDOW = 1000;
/** Longest wait for analysis to drain the queue. */
const DRAIN_MS = 300_000;

type Ingested = PayloadOf<typeof Subjects.eventIngested>;

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Messages a durable consumer still has to handle (pending and unacknowledged). */
async function backlog(jsm: JetStreamManager, stream: string, durable: string): Promise<number> {
  const info = await jsm.consumers.info(stream, durable);
  return info.num_pending + info.num_ack_pending;
}

/**
 * Analysis draining a queue of stored events: EVENTS cdp.event.ingested for CUSTOMERS customers
 * (a third of them matching an event segment, one in five carrying revenue) are queued on the
 * stream with analysis stopped, then one analysis process handles them (its customer_value score,
 * the event segment, and the score segment each score change feeds). The raw limit is a bare
 * JetStream consumer of the same stream that parses and acks each message, in the same run.
 */
export async function analysisSuite(_opts: BenchOptions): Promise<SuiteResult> {
  const started = Date.now();
  const prefix = testPrefix('benchanalysis');
  const database = await createTestDatabase(`cdp_bench_${prefix}`);
  const prisma = createPrismaClient(database.url, { max: 2 });
  let nc: NatsConnection | undefined;
  let service: ServiceProcess | undefined;
  try {
    const workspaceId = (await prisma.workspace.create({ data: { slug: `ws-${prefix}`, name: 'bench' } })).id;
    const customers = Array.from({ length: CUSTOMERS }, () => randomUUID());
    await prisma.customer.createMany({
      data: customers.map((id, i) => ({
        id,
        workspaceId,
        customerCode: `C${randomBytes(6).toString('hex')}${i}`,
      })),
    });
    await prisma.segment.createMany({
      data: [
        {
          workspaceId,
          name: 'Savers',
          kind: 'realtime',
          definition: {
            type: 'event',
            name: 'Account Opened',
            where: [{ property: 'product', op: 'eq', value: 'savings' }],
          },
        },
        {
          workspaceId,
          name: 'High value',
          kind: 'realtime',
          definition: { type: 'score', model: 'customer_value', gte: 0.3 },
        },
      ],
    });
    const env = {
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    };
    // A first start creates the streams and analysis's durable consumers; then the queue fills.
    service = new ServiceProcess('analysis', await freePort(), env);
    service.start();
    await service.ready();
    await service.stop();

    nc = await connect({ servers: NATS_URL });
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const stream = streamName(prefix, Subjects.eventIngested.stream);
    const subject = subjectFor(prefix, Subjects.eventIngested.name, workspaceId);
    const rawDurable = 'bench_raw_ack';
    await jsm.consumers.add(stream, {
      durable_name: rawDurable,
      ack_policy: AckPolicy.Explicit,
      filter_subject: subject,
    });
    const at = new Date().toISOString();
    const publishStarted = process.hrtime.bigint();
    let window: Promise<unknown>[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const event: Ingested = {
        workspaceId,
        eventId: String(i + 1),
        messageId: `bench-${i}`,
        customerId: customers[i % CUSTOMERS]!,
        customerCode: 'C-bench',
        type: 'track',
        name: i % 3 ? 'Page Viewed' : 'Account Opened',
        channel: 'web',
        properties: { product: 'savings', ...(i % 5 === 0 && { revenue: 120 }) },
        occurredAt: at,
        receivedAt: at,
      };
      window.push(js.publish(subject, JSON.stringify(event)));
      if (window.length >= PUBLISH_WINDOW) {
        await Promise.all(window);
        window = [];
      }
    }
    await Promise.all(window);
    const publishSeconds = Number(process.hrtime.bigint() - publishStarted) / 1e9;

    // Raw limit: the same messages, parsed and acked by a bare consumer.
    const raw = await js.consumers.get(stream, rawDurable);
    const rawStarted = process.hrtime.bigint();
    let acked = 0;
    const messages = await raw.consume({ max_messages: PUBLISH_WINDOW });
    for await (const m of messages) {
      m.json<Ingested>();
      m.ack();
      if (++acked >= EVENTS) break;
    }
    const rawSeconds = Number(process.hrtime.bigint() - rawStarted) / 1e9;

    let durable: string | undefined;
    for await (const consumer of jsm.consumers.list(stream))
      if (consumer.name.includes('event_ingested')) durable = consumer.name;
    if (!durable) throw new Error('analysis has no consumer of cdp.event.ingested');
    service = new ServiceProcess('analysis', await freePort(), env);
    service.start();
    await service.ready();
    const cpuBefore = cpuSeconds(service.pid!);
    const drainStarted = Date.now();
    let left = await backlog(jsm, stream, durable);
    while (left > 0 && Date.now() - drainStarted < DRAIN_MS) {
      await sleep(250);
      left = await backlog(jsm, stream, durable);
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    const cpu = cpuSeconds(service.pid!) - cpuBefore;
    const handled = EVENTS - left;
    const [scores, members] = await Promise.all([prisma.score.count(), prisma.segmentMembership.count()]);
    const rate = handled / drainSeconds;
    const rawRate = EVENTS / rawSeconds;
    return {
      suite: 'Analysis',
      description:
        'One analysis process on the local Postgres, NATS and Redis draining stored events queued on its stream: the customer_value score of the events (one transaction per batch, and the cdp.score.updated of each changed score), an event segment, and a score segment fed by the score changes.',
      durationSeconds: (Date.now() - started) / 1000,
      figures: [
        {
          name: 'cdp.event.ingested handled (scores and segments)',
          value: rate,
          unit: 'events/s',
          limit: { name: 'bare JetStream consumer, parse and ack', value: rawRate, unit: 'events/s' },
        },
        { name: 'analysis process CPU per event', value: (cpu / handled) * 1e6, unit: 'us' },
      ],
      notes: [
        `${EVENTS.toLocaleString('en-US')} events of ${CUSTOMERS.toLocaleString('en-US')} customers (${Math.ceil(EVENTS / 3).toLocaleString('en-US')} matching the event segment, one in five with revenue), published beforehand with a window of ${PUBLISH_WINDOW} outstanding acks in ${publishSeconds.toFixed(1)} s; ${handled.toLocaleString('en-US')} handled in ${drainSeconds.toFixed(1)} s${left ? ` (the wait ended with ${left} left)` : ''}, ${cpu.toFixed(1)} s of the process's CPU; ${scores.toLocaleString('en-US')} scores and ${members.toLocaleString('en-US')} memberships at the end.`,
        'Analysis takes the events in batches of up to 250 (two in flight): one score transaction for the batch with one windowed publish of the changed scores, one membership read and one write for the event segment; the score changes come back as cdp.score.updated batches for the score segment.',
        `The raw consumer read the same ${EVENTS.toLocaleString('en-US')} messages from a durable consumer of its own in ${rawSeconds.toFixed(2)} s (pull, batches of up to ${PUBLISH_WINDOW}), before analysis ran.`,
      ],
      raw: {
        events: EVENTS,
        customers: CUSTOMERS,
        publishSeconds,
        rawSeconds,
        drainSeconds,
        handled,
        left,
        cpu,
      },
    };
  } finally {
    await service?.stop();
    await nc?.close();
    await prisma.$disconnect();
    await cleanUpRun(prefix);
    await database.drop();
  }
}
