// Batch handlers (@JetStreamBatchPattern) against the real local NATS: one call for the messages a
// pull brought, acks per message, per-message failures from the returned map, a thrown batch, and
// invalid messages dead-lettered without reaching the handler.
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { jetstream, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects, deadLetterSubject, streamName, subjectFor, type PayloadOf } from '@cdp/contracts';
import {
  CdpHeaders,
  JetStreamBatchContext,
  JetStreamBatchPattern,
  JetStreamPublisher,
  JetStreamServer,
  durableName,
  type JetStreamBatchFailures,
  type MessagingOptions,
} from '../src';
import { NATS_URL, deleteStreams, ingested, natsAdmin, randomPrefix, waitFor } from './support';

type Ingested = PayloadOf<typeof Subjects.eventIngested>;
interface Seen {
  eventId: string;
  deliveryCount: number;
  msgId: string | undefined;
  streamSequence: number;
}

/** Handler calls by workspace (each call: the messages it got); what to fail, by workspace. */
const batches = new Map<string, Seen[][]>();
const failWith = new Map<string, (seen: Seen) => Error | undefined>();
const throwFor = new Map<string, (batch: Seen[]) => boolean>();
const batchesOf = (ws: string) => batches.get(ws) ?? [];
const seenOf = (ws: string) => batchesOf(ws).flat();

@Controller()
class BatchController {
  @JetStreamBatchPattern(Subjects.eventIngested, { concurrency: 32, maxMessages: 8 })
  onIngested(
    @Payload() events: Ingested[],
    @Ctx() ctx: JetStreamBatchContext,
  ): Promise<JetStreamBatchFailures> {
    const failures = new Map<number, unknown>();
    const byWorkspace = new Map<string, Seen[]>();
    events.forEach((event, i) => {
      const info = ctx.messages[i]!;
      const seen: Seen = {
        eventId: event.eventId,
        deliveryCount: info.deliveryCount,
        msgId: info.msgId,
        streamSequence: info.streamSequence,
      };
      byWorkspace.set(event.workspaceId, [...(byWorkspace.get(event.workspaceId) ?? []), seen]);
      const error = failWith.get(event.workspaceId)?.(seen);
      if (error) failures.set(i, error);
    });
    for (const [ws, seen] of byWorkspace) {
      batches.set(ws, [...batchesOf(ws), seen]);
      if (throwFor.get(ws)?.(seen)) return Promise.reject(new Error(`batch of ${ws} failed`));
    }
    return Promise.resolve(failures);
  }
}

@Module({ controllers: [BatchController] })
class BatchModule {}

describe('JetStreamServer batch handlers on NATS JetStream', () => {
  const prefix = randomPrefix();
  const options: MessagingOptions = {
    servers: NATS_URL,
    prefix,
    service: 'analysis',
    maxDeliver: 2,
    backoffMs: [50],
    ackWaitMs: 5000,
  };
  const durable = durableName('analysis', Subjects.eventIngested.name);
  const eventsStream = streamName(prefix, 'EVENTS');
  const dlqStream = streamName(prefix, 'DLQ');
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: JetStreamPublisher;
  let app: INestMicroservice | undefined;

  const publishAll = (ws: string, n: number) =>
    publisher.publishMany(
      Array.from({ length: n }, (_, i) => ({
        subject: Subjects.eventIngested,
        payload: ingested(ws, i),
        msgId: `${ws}-${i}`,
      })),
    );
  const acked = async (seq: number) =>
    (await jsm.consumers.info(eventsStream, durable)).ack_floor.stream_seq >= seq;
  const deadLetter = (ws: string): Promise<StoredMsg | null> =>
    jsm.streams
      .getMessage(dlqStream, {
        last_by_subj: deadLetterSubject(prefix, 'analysis', Subjects.eventIngested.name, ws),
      })
      .catch(() => null);

  beforeAll(async () => {
    ({ nc, jsm } = await natsAdmin());
    publisher = new JetStreamPublisher(options);
    await publisher.connect();
  });

  afterAll(async () => {
    await app?.close();
    await publisher?.close();
    if (jsm) await deleteStreams(jsm, prefix);
    await nc?.drain();
  });

  it('hands the messages of a pull to one call (at most maxMessages), with each one context, and acks them all', async () => {
    const ws = 'batched';
    // published before the consumer runs, so its first pulls bring many at once
    const acks = await publishAll(ws, 20);
    app = await NestFactory.createMicroservice(BatchModule, {
      strategy: new JetStreamServer(options),
      logger: false,
    });
    await app.listen();
    await waitFor(() => seenOf(ws).length >= 20, 5000, '20 events');
    await waitFor(() => acked(acks[19]!.seq), 3000, 'the acks');
    await sleep(200);
    const seen = seenOf(ws);
    expect(seen.map((s) => s.eventId).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    expect(Math.max(...batchesOf(ws).map((b) => b.length))).toBe(8);
    for (const s of seen) {
      expect(s.msgId).toBe(`${ws}-${s.eventId}`);
      expect(s.streamSequence).toBe(acks[Number(s.eventId)]!.seq);
      expect(s.deliveryCount).toBe(1);
    }
    expect((await jsm.consumers.info(eventsStream, durable)).num_ack_pending).toBe(0);
  });

  it('redelivers only the messages the handler reported failed, and dead-letters them after maxDeliver with the reason', async () => {
    const ws = 'partial';
    failWith.set(ws, (s) => (s.eventId === '2' ? new Error('customer 2 unknown') : undefined));
    const acks = await publishAll(ws, 5);
    let dead: StoredMsg | null = null;
    await waitFor(async () => (dead = await deadLetter(ws)) !== null, 5000, 'the dead letter');
    const letter = dead as unknown as StoredMsg;
    expect(letter.json<Ingested>().eventId).toBe('2');
    expect(letter.header.get(CdpHeaders.DlqReason)).toBe('customer 2 unknown');
    expect(letter.header.get(CdpHeaders.DeliveryCount)).toBe('2');
    await waitFor(() => acked(acks[4]!.seq), 3000, 'the acks');
    await sleep(200);
    const seen = seenOf(ws);
    expect(seen.filter((s) => s.eventId === '2').map((s) => s.deliveryCount)).toEqual([1, 2]);
    expect(seen.filter((s) => s.eventId !== '2').map((s) => s.deliveryCount)).toEqual([1, 1, 1, 1]);
  });

  it('redelivers every message of a batch whose handler threw', async () => {
    const ws = 'thrown';
    throwFor.set(ws, (batch) => batch.some((s) => s.deliveryCount === 1));
    const acks = await publishAll(ws, 3);
    await waitFor(() => seenOf(ws).filter((s) => s.deliveryCount === 2).length === 3, 5000, 'redeliveries');
    await waitFor(() => acked(acks[2]!.seq), 3000, 'the acks');
    await sleep(200);
    expect(seenOf(ws).filter((s) => s.deliveryCount === 1)).toHaveLength(3);
    expect(await deadLetter(ws)).toBeNull();
  });

  it('dead-letters an invalid message without calling the handler, and delivers the valid ones beside it', async () => {
    const js = jetstream(nc);
    const ws = 'mixed';
    await js.publish(subjectFor(prefix, Subjects.eventIngested.name, ws), 'this is not json');
    const acks = await publishAll(ws, 2);
    let dead: StoredMsg | null = null;
    await waitFor(async () => (dead = await deadLetter(ws)) !== null, 5000, 'the dead letter');
    expect((dead as unknown as StoredMsg).header.get(CdpHeaders.DlqReason)).toMatch(/^invalid JSON/);
    await waitFor(() => acked(acks[1]!.seq), 3000, 'the acks');
    expect(
      seenOf(ws)
        .map((s) => s.eventId)
        .sort(),
    ).toEqual(['0', '1']);
  });
});
