// Request/reply through JetStreamServer (@MessagePattern), JetStreamPublisher when NATS is
// unreachable or goes away, and MessagingModule's lifecycle; against the real local NATS.
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { RpcSubjects, Subjects, streamName, subjectFor, type ReplyOf, type RequestOf } from '@cdp/contracts';
import {
  CdpHeaders,
  JETSTREAM_TRANSPORT,
  JetStreamContext,
  JetStreamPublisher,
  JetStreamServer,
  MESSAGING_OPTIONS,
  MessagingModule,
  MessagingUnavailableError,
  RpcError,
  type MessagingOptions,
} from '../src';
import { NATS_URL, NatsProxy, deleteStreams, ingested, natsAdmin, randomPrefix, waitFor } from './support';

type LookupRequest = RequestOf<typeof RpcSubjects.customerLookup>;
type LookupReply = ReplyOf<typeof RpcSubjects.customerLookup>;

const answeredBy: string[] = [];

function lookupController(replica: string) {
  @Controller()
  class LookupController {
    @MessagePattern(RpcSubjects.customerLookup.name, JETSTREAM_TRANSPORT)
    async lookup(@Payload() req: LookupRequest, @Ctx() ctx: JetStreamContext): Promise<LookupReply> {
      answeredBy.push(replica);
      switch (req.customerId) {
        case 'missing':
          return { found: false };
        case 'gone':
          throw new RpcException({ status: 404, message: 'customer gone was erased' });
        case 'crash':
          throw new Error('database exploded');
        case 'slow':
          await sleep(1000);
          return { found: false };
        case 'echo-ctx':
          return {
            found: true,
            customer: {
              id: ctx.subject,
              customerCode: ctx.workspaceId,
              lifecycleStage: 'prospect',
              traits: { kind: ctx.kind },
            },
          };
        case undefined:
        default:
          return {
            found: true,
            customer: {
              id: req.customerId ?? '?',
              customerCode: 'C1',
              lifecycleStage: 'contracted',
              traits: { tier: 'gold' },
            },
          };
      }
    }
  }
  @Module({ controllers: [LookupController] })
  class LookupModule {}
  return LookupModule;
}

describe('RPC and JetStreamPublisher on NATS', () => {
  const prefix = randomPrefix();
  const options: MessagingOptions = {
    servers: NATS_URL,
    prefix,
    service: 'collection',
    publishTimeoutMs: 1000,
    connectTimeoutMs: 3000,
  };
  const otherPrefixes: string[] = [];
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let publisher: JetStreamPublisher;
  const apps: INestMicroservice[] = [];

  async function startResponder(replica: string): Promise<INestMicroservice> {
    const app = await NestFactory.createMicroservice(lookupController(replica), {
      strategy: new JetStreamServer(options),
      logger: false,
    });
    apps.push(app);
    await app.listen();
    return app;
  }

  beforeAll(async () => {
    ({ nc, jsm } = await natsAdmin());
    publisher = new JetStreamPublisher(options);
    await publisher.connect();
    await startResponder('r1');
  });

  afterAll(async () => {
    for (const app of apps.splice(0)) await app.close();
    await publisher?.close();
    if (jsm) for (const p of [prefix, ...otherPrefixes]) await deleteStreams(jsm, p);
    await nc?.drain();
  });

  describe('request/reply', () => {
    it('answers a look-up with the handler result', async () => {
      const reply = await publisher.request(RpcSubjects.customerLookup, {
        workspaceId: 'w1',
        customerId: 'cus-1',
      });
      expect(reply).toEqual({
        found: true,
        customer: { id: 'cus-1', customerCode: 'C1', lifecycleStage: 'contracted', traits: { tier: 'gold' } },
      });
      expect(
        await publisher.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: 'missing' }),
      ).toEqual({ found: false });
      const ctx = await publisher.request(RpcSubjects.customerLookup, {
        workspaceId: 'w2',
        customerId: 'echo-ctx',
      });
      expect(ctx.customer).toMatchObject({
        id: `${prefix}.cdp-rpc.customer.lookup.w2`,
        customerCode: 'w2',
        traits: { kind: 'rpc' },
      });
    });

    it('rejects an invalid request with RpcError 400 and the issues (client side)', async () => {
      const bad = { workspaceId: 'w1', customerId: 42 } as unknown as LookupRequest;
      const error = await publisher.request(RpcSubjects.customerLookup, bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect(error).toMatchObject({
        status: 400,
        issues: [expect.objectContaining({ path: '/customerId' })],
      });
    });

    it('answers an invalid raw request with a 400 error reply (server side, non-Nest client wire format)', async () => {
      const subject = subjectFor(prefix, RpcSubjects.customerLookup.name, 'w1');
      const invalid = await nc.request(subject, JSON.stringify({ workspaceId: 'w1', customerId: 42 }), {
        timeout: 2000,
      });
      expect(invalid.headers?.get(CdpHeaders.RpcError)).toBe('400');
      expect(invalid.json()).toEqual({
        error: {
          status: 400,
          message: expect.stringMatching(/^invalid cdp-rpc\.customer\.lookup\/v1 request/),
          issues: expect.any(Array),
        },
      });
      const notJson = await nc.request(subject, 'hello', { timeout: 2000 });
      expect(notJson.json()).toMatchObject({ error: { status: 400 } });
      const ok = await nc.request(subject, JSON.stringify({ workspaceId: 'w1', customerId: 'missing' }), {
        timeout: 2000,
      });
      expect(ok.json()).toEqual({ found: false });
      expect(ok.headers?.get(CdpHeaders.RpcError) ?? '').toBe('');
    });

    it('turns handler errors into RpcError with their status', async () => {
      await expect(
        publisher.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: 'gone' }),
      ).rejects.toMatchObject({
        name: 'RpcError',
        status: 404,
        message: 'customer gone was erased',
      });
      await expect(
        publisher.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: 'crash' }),
      ).rejects.toMatchObject({ status: 500 });
    });

    it('times out with RpcError 504', async () => {
      const started = Date.now();
      await expect(
        publisher.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: 'slow' }, 300),
      ).rejects.toMatchObject({ status: 504 });
      expect(Date.now() - started).toBeLessThan(900);
    });

    it('spreads requests over the replicas of the responder (queue group), each answered once', async () => {
      await startResponder('r2');
      answeredBy.length = 0;
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          publisher.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: `c${i}` }),
        ),
      );
      expect(replies.every((r) => r.found)).toBe(true);
      expect(answeredBy).toHaveLength(40);
      expect(new Set(answeredBy)).toEqual(new Set(['r1', 'r2']));
    });

    it('fails with RpcError 503 when nobody answers', async () => {
      const lonelyPrefix = randomPrefix();
      otherPrefixes.push(lonelyPrefix);
      const lonely = new JetStreamPublisher({ ...options, prefix: lonelyPrefix });
      await lonely.connect();
      try {
        await expect(
          lonely.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: 'x' }),
        ).rejects.toMatchObject({ name: 'RpcError', status: 503 });
      } finally {
        await lonely.close();
      }
    });
  });

  describe('publisher', () => {
    it('validates before publishing (ContractViolation) and stamps Cdp-Schema', async () => {
      const bad = { ...ingested('pub'), channel: 'fax' } as unknown as ReturnType<typeof ingested>;
      await expect(publisher.publish(Subjects.eventIngested, bad, { msgId: 'bad-1' })).rejects.toMatchObject({
        name: 'ContractViolation',
      });
      const ack = await publisher.publish(Subjects.eventIngested, ingested('pub'), { msgId: 'pub-1' });
      const stored = await jsm.streams.getMessage(streamName(prefix, 'EVENTS'), { seq: ack.seq });
      expect(stored?.subject).toBe(`${prefix}.cdp.event.ingested.pub`);
      expect(stored?.header.get(CdpHeaders.Schema)).toBe('cdp.event.ingested/v1');
      expect(stored?.header.get('Nats-Msg-Id')).toBe('pub-1');
    });

    it('sends a payload the caller serialized (json) as given, on the payload workspace subject', async () => {
      const payload = ingested('enc');
      const json = JSON.stringify({ ...payload, note: 'serialized by the caller' });
      const ack = await publisher.publish(Subjects.eventIngested, payload, { msgId: 'enc-1', json });
      const stored = await jsm.streams.getMessage(streamName(prefix, 'EVENTS'), { seq: ack.seq });
      expect(stored?.subject).toBe(`${prefix}.cdp.event.ingested.enc`);
      expect(stored?.string()).toBe(json);
      expect(stored?.header.get(CdpHeaders.Schema)).toBe('cdp.event.ingested/v1');
    });

    it('reads a stored event back by its sequence: validated, and undefined for a sequence it does not hold', async () => {
      const payload = ingested('back');
      const ack = await publisher.publish(Subjects.eventIngested, payload, { msgId: 'back-1' });
      expect(await publisher.readStored(Subjects.eventIngested, ack.seq)).toEqual(payload);
      // The same stream's sequence, another subject's message; a sequence not (or no longer) stored.
      const other = await publisher.publish(
        Subjects.profileUpdated,
        {
          workspaceId: 'back',
          customerId: 'cus-1',
          customerCode: 'C1',
          lifecycleStage: 'prospect',
          changedTraits: [],
          traits: {},
          updatedAt: '2026-01-02T03:04:05.000Z',
        },
        { msgId: 'back-2' },
      );
      expect(await publisher.readStored(Subjects.eventIngested, other.seq)).toBeUndefined();
      expect(await publisher.readStored(Subjects.eventIngested, ack.seq + 1_000_000)).toBeUndefined();
    });

    it('publishes a batch with a window of outstanding acks, results in order, duplicates flagged', async () => {
      const items = Array.from({ length: 300 }, (_, i) => ({
        subject: Subjects.eventIngested,
        payload: ingested('batch', i),
        msgId: `batch-${i % 250}`,
      }));
      const results = await publisher.publishMany(items, { window: 32 });
      expect(results).toHaveLength(300);
      expect(results.filter((r) => r.duplicate)).toHaveLength(50);
      expect(new Set(results.map((r) => r.seq)).size).toBe(250);
      expect(results[260]!.seq).toBe(results[10]!.seq);
    });

    it('recreates a deleted stream on publish', async () => {
      await jsm.streams.delete(streamName(prefix, 'ANALYSIS'));
      const ack = await publisher.publish(
        Subjects.scoreUpdated,
        {
          workspaceId: 'w1',
          customerId: 'c1',
          model: 'churn',
          modelVersion: '1',
          value: 0.5,
          computedAt: '2026-01-01T00:00:00Z',
        },
        { msgId: 'score-1' },
      );
      expect(ack).toEqual({ seq: 1, duplicate: false });
      expect((await jsm.streams.info(streamName(prefix, 'ANALYSIS'))).state.messages).toBe(1);
    });

    it('recreates a deleted stream on publishMany, publishing only what it could not store once more', async () => {
      await jsm.streams.delete(streamName(prefix, 'ANALYSIS'));
      const score = (i: number) => ({
        subject: Subjects.scoreUpdated,
        payload: {
          workspaceId: 'w1',
          customerId: `c${i}`,
          model: 'churn',
          modelVersion: '1',
          value: 0.5,
          computedAt: '2026-01-01T00:00:00Z',
        },
        msgId: `score-many-${i}`,
      });
      const results = await publisher.publishMany([
        score(1),
        { subject: Subjects.eventIngested, payload: ingested('many'), msgId: 'many-1' },
        score(2),
      ]);
      expect(results.map((r) => r.duplicate)).toEqual([false, false, false]);
      expect([results[0]!.seq, results[2]!.seq].sort()).toEqual([1, 2]);
      expect((await jsm.streams.info(streamName(prefix, 'ANALYSIS'))).state.messages).toBe(2);
    });

    it('validates every item of publishMany before sending any', async () => {
      const bad = { ...ingested('many-bad'), channel: 'fax' } as unknown as ReturnType<typeof ingested>;
      const before = (await jsm.streams.info(streamName(prefix, 'EVENTS'))).state.messages;
      await expect(
        publisher.publishMany([
          { subject: Subjects.eventIngested, payload: ingested('many-bad'), msgId: 'many-bad-1' },
          { subject: Subjects.eventIngested, payload: bad, msgId: 'many-bad-2' },
        ]),
      ).rejects.toMatchObject({ name: 'ContractViolation' });
      expect((await jsm.streams.info(streamName(prefix, 'EVENTS'))).state.messages).toBe(before);
    });

    it('pings the server (health check)', async () => {
      expect(publisher.isConnected()).toBe(true);
      await expect(publisher.ping()).resolves.toBeUndefined();
    });
  });

  describe('when NATS is unreachable', () => {
    it('connect() rejects with MessagingUnavailableError within connectTimeoutMs; publish/ping/request reject at once', async () => {
      const down = new JetStreamPublisher({
        ...options,
        servers: 'nats://127.0.0.1:1',
        connectTimeoutMs: 1500,
      });
      const started = Date.now();
      await expect(down.connect()).rejects.toBeInstanceOf(MessagingUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      await expect(
        down.publish(Subjects.eventIngested, ingested('down'), { msgId: 'down-1' }),
      ).rejects.toBeInstanceOf(MessagingUnavailableError);
      await expect(down.ping()).rejects.toBeInstanceOf(MessagingUnavailableError);
      await expect(
        down.request(RpcSubjects.customerLookup, { workspaceId: 'w1', customerId: 'x' }),
      ).rejects.toBeInstanceOf(MessagingUnavailableError);
      expect(down.isConnected()).toBe(false);
      await down.close();
    });

    it('the server fails to listen with MessagingUnavailableError', async () => {
      const app = await NestFactory.createMicroservice(lookupController('down'), {
        strategy: new JetStreamServer({ ...options, servers: 'nats://127.0.0.1:1', connectTimeoutMs: 800 }),
        logger: false,
      });
      await expect(app.listen()).rejects.toBeInstanceOf(MessagingUnavailableError);
      await app.close();
    });

    it('publish rejects within publishTimeoutMs while the connection is lost, and works again after reconnecting', async () => {
      const proxy = new NatsProxy();
      await proxy.up();
      const viaProxy = new JetStreamPublisher({ ...options, servers: proxy.url, publishTimeoutMs: 1000 });
      try {
        await viaProxy.connect();
        await viaProxy.publish(Subjects.eventIngested, ingested('proxy', 1), { msgId: 'proxy-1' });
        await proxy.down();
        await waitFor(() => !viaProxy.isConnected(), 2000, 'the disconnect');
        const started = Date.now();
        await expect(
          viaProxy.publish(Subjects.eventIngested, ingested('proxy', 2), { msgId: 'proxy-2' }),
        ).rejects.toBeInstanceOf(MessagingUnavailableError);
        expect(Date.now() - started).toBeLessThan(2500);
        const many = Date.now();
        await expect(
          viaProxy.publishMany([
            { subject: Subjects.eventIngested, payload: ingested('proxy', 4), msgId: 'proxy-4' },
            { subject: Subjects.eventIngested, payload: ingested('proxy', 5), msgId: 'proxy-5' },
          ]),
        ).rejects.toBeInstanceOf(MessagingUnavailableError);
        expect(Date.now() - many).toBeLessThan(2500);
        await expect(viaProxy.ping(300)).rejects.toBeInstanceOf(MessagingUnavailableError);
        await proxy.up();
        await waitFor(() => viaProxy.isConnected(), 8000, 'the reconnect');
        const again = await viaProxy.publish(Subjects.eventIngested, ingested('proxy', 3), {
          msgId: 'proxy-3',
        });
        expect(again.duplicate).toBe(false);
        const after = await viaProxy.publishMany([
          { subject: Subjects.eventIngested, payload: ingested('proxy', 6), msgId: 'proxy-6' },
          { subject: Subjects.eventIngested, payload: ingested('proxy', 7), msgId: 'proxy-7' },
        ]);
        expect(after.map((r) => r.duplicate)).toEqual([false, false]);
      } finally {
        await viaProxy.close();
        await proxy.down();
      }
    });
  });

  describe('MessagingModule', () => {
    it('provides a connected publisher and the options, and closes it on shutdown', async () => {
      @Module({ imports: [MessagingModule.forRoot(options)] })
      class AppModule {}
      const ctx = await NestFactory.createApplicationContext(AppModule, { logger: false });
      const pub = ctx.get(JetStreamPublisher);
      expect(ctx.get(MESSAGING_OPTIONS)).toBe(options);
      expect(pub.isConnected()).toBe(true);
      await pub.publish(Subjects.eventIngested, ingested('module'), { msgId: 'module-1' });
      await ctx.close();
      expect(pub.isConnected()).toBe(false);
      await expect(
        pub.publish(Subjects.eventIngested, ingested('module'), { msgId: 'module-2' }),
      ).rejects.toBeInstanceOf(MessagingUnavailableError);
    });
  });
});
