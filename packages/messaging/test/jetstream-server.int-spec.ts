// JetStreamServer + JetStreamPublisher against the real local NATS (2.9): delivery, dedup,
// retries with backoff, dead letters, invalid payloads, idempotent set-up and graceful close.
// Every stream lives under a random prefix and is deleted at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, RpcException } from '@nestjs/microservices';
import { jetstream, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import {
  Streams,
  Subjects,
  deadLetterSubject,
  streamName,
  subjectFor,
  type PayloadOf,
  type StreamKey,
} from '@cdp/contracts';
import {
  CdpHeaders,
  JETSTREAM_TRANSPORT,
  JetStreamContext,
  JetStreamEventPattern,
  JetStreamPublisher,
  JetStreamServer,
  durableName,
  type MessagingOptions,
} from '../src';
import { NATS_URL, deleteStreams, ingested, natsAdmin, randomPrefix, waitFor } from './support';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;
interface Call {
  payload: Ingested;
  subject: string;
  workspaceId: string;
  deliveryCount: number;
  msgId: string | undefined;
  streamSequence: number;
  headers: Record<string, string>;
  at: number;
}

/** Handler calls and behaviour by workspace, so tests do not see each other's messages. */
const calls = new Map<string, Call[]>();
const behaviour = new Map<string, (call: Call) => Promise<void> | void>();
const callsOf = (ws: string) => calls.get(ws) ?? [];
type Profile = PayloadOf<typeof Subjects.profileUpdated>;
const profiles: string[] = [];
const profileLoad = { active: 0, max: 0 };

@Controller()
class IngestedController {
  @EventPattern<string>(Subjects.eventIngested.name, JETSTREAM_TRANSPORT)
  async onIngested(@Payload() payload: Ingested, @Ctx() ctx: JetStreamContext): Promise<void> {
    const call: Call = {
      payload,
      subject: ctx.subject,
      workspaceId: ctx.workspaceId,
      deliveryCount: ctx.deliveryCount,
      msgId: ctx.msgId,
      streamSequence: ctx.streamSequence,
      headers: ctx.headers,
      at: Date.now(),
    };
    calls.set(payload.workspaceId, [...callsOf(payload.workspaceId), call]);
    await behaviour.get(payload.workspaceId)?.(call);
  }

  @JetStreamEventPattern(Subjects.profileUpdated, { concurrency: 2 })
  async onProfile(@Payload() profile: Profile): Promise<void> {
    profileLoad.max = Math.max(profileLoad.max, ++profileLoad.active);
    await sleep(100);
    profiles.push(profile.customerId);
    profileLoad.active--;
  }
}

@Module({ controllers: [IngestedController] })
class ConsumerModule {}

@Controller()
class UnknownPatternController {
  @EventPattern<string>('cdp.not.a.subject', JETSTREAM_TRANSPORT)
  handle(): void {}
}

@Module({ controllers: [UnknownPatternController] })
class UnknownPatternModule {}

describe('JetStreamServer on NATS JetStream', () => {
  const prefix = randomPrefix();
  const options: MessagingOptions = {
    servers: NATS_URL,
    prefix,
    service: 'analysis',
    maxDeliver: 3,
    backoffMs: [50, 100],
    ackWaitMs: 5000,
  };
  const durable = durableName('analysis', Subjects.eventIngested.name);
  const eventsStream = streamName(prefix, 'EVENTS');
  const dlqStream = streamName(prefix, 'DLQ');
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: JetStreamPublisher;
  const apps: INestMicroservice[] = [];

  async function startApp(
    module: unknown = ConsumerModule,
    opts: MessagingOptions = options,
  ): Promise<INestMicroservice> {
    const app = await NestFactory.createMicroservice(module as never, {
      strategy: new JetStreamServer(opts),
      logger: false,
    });
    apps.push(app);
    await app.listen();
    return app;
  }

  async function closeApp(app: INestMicroservice): Promise<void> {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  }

  async function deadLetter(ws: string): Promise<StoredMsg | null> {
    return jsm.streams
      .getMessage(dlqStream, {
        last_by_subj: deadLetterSubject(prefix, 'analysis', Subjects.eventIngested.name, ws),
      })
      .catch(() => null);
  }

  beforeAll(async () => {
    ({ nc, jsm } = await natsAdmin());
    publisher = new JetStreamPublisher(options);
    await publisher.connect();
  });

  afterAll(async () => {
    for (const app of apps.splice(0)) await app.close();
    await publisher?.close();
    if (jsm) await deleteStreams(jsm, prefix);
    await nc?.drain();
  });

  it('refuses to start with a pattern that is not a contracts subject', async () => {
    const app = await NestFactory.createMicroservice(UnknownPatternModule, {
      strategy: new JetStreamServer(options),
      logger: false,
    });
    await expect(app.listen()).rejects.toThrow(/cdp\.not\.a\.subject.*not an event subject/);
    await app.close();
  });

  it('creates the streams and one shared durable consumer idempotently (started twice, then two replicas)', async () => {
    await closeApp(await startApp());
    const first = await startApp();
    const second = await startApp(); // a second replica of the same service
    for (const key of Object.keys(Streams) as StreamKey[]) {
      const info = await jsm.streams.info(streamName(prefix, key));
      expect(info.config.subjects).toEqual(Streams[key].families.map((f) => `${prefix}.${f}.>`));
      expect(info.config.duplicate_window).toBe(120_000_000_000);
      expect(info.config.max_age).toBe(Streams[key].maxAgeDays * 86_400_000_000_000);
    }
    const consumers = [];
    for await (const c of jsm.consumers.list(eventsStream)) consumers.push(c);
    expect(consumers.map((c) => c.name).sort()).toEqual([
      durable,
      durableName('analysis', 'cdp.profile.updated'),
    ]);
    const config = consumers.find((c) => c.name === durable)!.config;
    expect(config).toMatchObject({
      filter_subject: `${prefix}.cdp.event.ingested.*`,
      ack_policy: 'explicit',
      max_deliver: 3,
      ack_wait: 5_000_000_000,
    });
    expect(config.backoff ?? []).toEqual([]);

    // the replicas share the consumer: every event handled exactly once
    const ws = 'replicas';
    const acks = await publisher.publishMany(
      Array.from({ length: 20 }, (_, i) => ({
        subject: Subjects.eventIngested,
        payload: ingested(ws, i),
        msgId: `${ws}-${i}`,
      })),
      { window: 8 },
    );
    expect(new Set(acks.map((a) => a.seq)).size).toBe(20);
    await waitFor(() => callsOf(ws).length >= 20, 5000, '20 events');
    await sleep(200);
    expect(
      callsOf(ws)
        .map((c) => c.payload.eventId)
        .sort((a, b) => Number(a) - Number(b)),
    ).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    await closeApp(second);
    expect(apps).toEqual([first]);
  });

  it('delivers a published, validated event with its context, and acks it', async () => {
    const ws = 'deliver';
    const payload = ingested(ws);
    const ack = await publisher.publish(Subjects.eventIngested, payload, {
      msgId: 'deliver-1',
      headers: { 'X-Trace': 'abc' },
    });
    expect(ack.duplicate).toBe(false);
    await waitFor(() => callsOf(ws).length === 1, 5000, 'the event');
    const [call] = callsOf(ws);
    expect(call).toMatchObject({
      payload,
      subject: subjectFor(prefix, Subjects.eventIngested.name, ws),
      workspaceId: ws,
      deliveryCount: 1,
      msgId: 'deliver-1',
      streamSequence: ack.seq,
    });
    expect(call!.headers).toMatchObject({ [CdpHeaders.Schema]: 'cdp.event.ingested/v1', 'X-Trace': 'abc' });
    await waitFor(
      async () => (await jsm.consumers.info(eventsStream, durable)).ack_floor.stream_seq >= ack.seq,
      3000,
      'the ack',
    );
  });

  it('keeps at most `concurrency` messages of a subject in flight (per-handler option)', async () => {
    const started = Date.now();
    await publisher.publishMany(
      Array.from({ length: 8 }, (_, i) => ({
        subject: Subjects.profileUpdated,
        payload: {
          workspaceId: 'load',
          customerId: `p${i}`,
          customerCode: `P${i}`,
          lifecycleStage: 'prospect',
          changedTraits: [],
          traits: {},
          updatedAt: '2026-01-01T00:00:00Z',
        },
        msgId: `profile-${i}`,
      })),
    );
    await waitFor(() => profiles.length === 8, 5000, 'eight profiles');
    expect(profileLoad.max).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('stores a message published twice with one msgId once, and the handler runs once', async () => {
    const ws = 'dedup';
    const first = await publisher.publish(Subjects.eventIngested, ingested(ws), { msgId: 'dedup-1' });
    const second = await publisher.publish(Subjects.eventIngested, ingested(ws), { msgId: 'dedup-1' });
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ seq: first.seq, duplicate: true });
    await waitFor(() => callsOf(ws).length === 1, 5000, 'the event');
    await sleep(300);
    expect(callsOf(ws)).toHaveLength(1);
  });

  it('redelivers with backoff after failures, then acks (throws twice, succeeds on the third delivery)', async () => {
    const ws = 'retry';
    behaviour.set(ws, (call) => {
      if (call.deliveryCount < 3) throw new Error(`failure ${call.deliveryCount}`);
    });
    const ack = await publisher.publish(Subjects.eventIngested, ingested(ws), { msgId: 'retry-1' });
    await waitFor(() => callsOf(ws).length === 3, 5000, 'three deliveries');
    const seen = callsOf(ws);
    expect(seen.map((c) => c.deliveryCount)).toEqual([1, 2, 3]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(45); // backoff[0] = 50 ms
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(95); // backoff[1] = 100 ms
    await waitFor(
      async () => (await jsm.consumers.info(eventsStream, durable)).ack_floor.stream_seq >= ack.seq,
      3000,
      'the ack',
    );
    await sleep(300);
    expect(callsOf(ws)).toHaveLength(3);
    expect(await deadLetter(ws)).toBeNull();
  });

  it('dead-letters a message after maxDeliver failed deliveries, with the reason, and stops redelivering it', async () => {
    const ws = 'poison';
    behaviour.set(ws, () => {
      throw new RpcException('customer store rejected the event');
    });
    const payload = ingested(ws);
    const ack = await publisher.publish(Subjects.eventIngested, payload, { msgId: 'poison-1' });
    let dead: StoredMsg | null = null;
    await waitFor(async () => (dead = await deadLetter(ws)) !== null, 5000, 'the dead letter');
    const letter = dead as unknown as StoredMsg;
    expect(letter.subject).toBe(`${prefix}.cdp.dlq.analysis.event.ingested.${ws}`);
    expect(letter.json()).toEqual(payload);
    expect(letter.header.get(CdpHeaders.DlqReason)).toBe('customer store rejected the event');
    expect(letter.header.get(CdpHeaders.OriginalSubject)).toBe(
      subjectFor(prefix, Subjects.eventIngested.name, ws),
    );
    expect(letter.header.get(CdpHeaders.Consumer)).toBe(durable);
    expect(letter.header.get(CdpHeaders.DeliveryCount)).toBe('3');
    expect(letter.header.get(CdpHeaders.OriginalStreamSequence)).toBe(String(ack.seq));
    expect(letter.header.get(CdpHeaders.OriginalMsgId)).toBe('poison-1');
    expect(callsOf(ws).map((c) => c.deliveryCount)).toEqual([1, 2, 3]);
    await sleep(400);
    expect(callsOf(ws)).toHaveLength(3);
    const info = await jsm.consumers.info(eventsStream, durable);
    expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(ack.seq);
  });

  it('dead-letters invalid JSON, a schema violation and a workspace mismatch at once, without calling the handler', async () => {
    const js = jetstream(nc);
    const subject = (ws: string) => subjectFor(prefix, Subjects.eventIngested.name, ws);
    await js.publish(subject('badjson'), 'this is not json');
    await js.publish(
      subject('badschema'),
      JSON.stringify({ ...ingested('badschema'), channel: 'carrier-pigeon' }),
    );
    await js.publish(subject('mismatch'), JSON.stringify(ingested('someone-else')));
    const letters: Record<string, StoredMsg> = {};
    await waitFor(
      async () => {
        for (const ws of ['badjson', 'badschema', 'mismatch']) {
          const m = letters[ws] ?? (await deadLetter(ws));
          if (m) letters[ws] = m;
        }
        return Object.keys(letters).length === 3;
      },
      5000,
      'three dead letters',
    );
    expect(letters.badjson!.header.get(CdpHeaders.DlqReason)).toMatch(/^invalid JSON/);
    expect(letters.badjson!.string()).toBe('this is not json');
    expect(letters.badschema!.header.get(CdpHeaders.DlqReason)).toMatch(
      /^invalid cdp\.event\.ingested\/v1: .*\/channel/,
    );
    expect(letters.mismatch!.header.get(CdpHeaders.DlqReason)).toMatch(/workspaceId "someone-else" differs/);
    for (const m of Object.values(letters)) expect(m.header.get(CdpHeaders.DeliveryCount)).toBe('1');
    expect(callsOf('badjson')).toHaveLength(0);
    expect(callsOf('badschema')).toHaveLength(0);
    expect(callsOf('someone-else')).toHaveLength(0);
  });

  it('keeps a message whose handler outlasts ack_wait (working heartbeats), instead of redelivering it', async () => {
    const ws = 'slow';
    behaviour.set(ws, () => sleep(1200));
    // a second service with ack_wait 300 ms consumes the same subject (its own durable)
    const campaign = await startApp(ConsumerModule, { ...options, service: 'campaign', ackWaitMs: 300 });
    try {
      await publisher.publish(Subjects.eventIngested, ingested(ws), { msgId: 'slow-1' });
      await waitFor(() => callsOf(ws).length === 2, 5000, 'both consumers');
      await sleep(1500);
      expect(callsOf(ws).map((c) => c.deliveryCount)).toEqual([1, 1]);
    } finally {
      await closeApp(campaign);
    }
  });

  it('closes gracefully: an in-flight slow handler finishes and is acked, and is not redelivered after a restart', async () => {
    const ws = 'graceful';
    let finished = false;
    behaviour.set(ws, async () => {
      await sleep(800);
      finished = true;
    });
    const ack = await publisher.publish(Subjects.eventIngested, ingested(ws), { msgId: 'graceful-1' });
    await waitFor(() => callsOf(ws).length === 1, 5000, 'the handler to start');
    const [app] = apps;
    const closing = closeApp(app!);
    await sleep(50);
    expect(finished).toBe(false);
    await closing;
    expect(finished).toBe(true);
    const info = await jsm.consumers.info(eventsStream, durable);
    expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(ack.seq);
    expect(info.num_ack_pending).toBe(0);

    await startApp();
    const later = await publisher.publish(Subjects.eventIngested, ingested(ws, 2), { msgId: 'graceful-2' });
    await waitFor(() => callsOf(ws).length === 2, 5000, 'the next event after the restart');
    await sleep(300);
    expect(callsOf(ws).map((c) => c.streamSequence)).toEqual([ack.seq, later.seq]);
  });

  it('closes within shutdownGraceMs when a handler never finishes, and the message is redelivered after a restart', async () => {
    const ws = 'stuck';
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    behaviour.set(ws, (call) => (call.deliveryCount === 1 ? stuck : undefined));
    const running = apps.splice(0);
    for (const app of running) await app.close();
    const app = await startApp(ConsumerModule, { ...options, shutdownGraceMs: 300 });
    const ack = await publisher.publish(Subjects.eventIngested, ingested(ws), { msgId: 'stuck-1' });
    await waitFor(() => callsOf(ws).length === 1, 5000, 'the handler to start');
    const started = Date.now();
    await closeApp(app);
    expect(Date.now() - started).toBeLessThan(3000);

    await startApp();
    await waitFor(() => callsOf(ws).length === 2, 10_000, 'the redelivery after the restart');
    expect(callsOf(ws).map((c) => [c.streamSequence, c.deliveryCount])).toEqual([
      [ack.seq, 1],
      [ack.seq, 2],
    ]);
    release();
  });

  it('recreates its consumer when an operator deletes it, and goes on consuming', async () => {
    const profileDurable = durableName('analysis', Subjects.profileUpdated.name);
    await jsm.consumers.delete(eventsStream, profileDurable);
    await publisher.publish(
      Subjects.profileUpdated,
      {
        workspaceId: 'load',
        customerId: 'after-delete',
        customerCode: 'PX',
        lifecycleStage: 'prospect',
        changedTraits: [],
        traits: {},
        updatedAt: '2026-01-01T00:00:00Z',
      },
      { msgId: 'profile-after-delete' },
    );
    await waitFor(() => profiles.includes('after-delete'), 8000, 'the event after the consumer was deleted');
    expect((await jsm.consumers.info(eventsStream, profileDurable)).config.filter_subject).toBe(
      `${prefix}.cdp.profile.updated.*`,
    );
  });
});
