import { Parser, type Diagnostic } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RpcSubjects, Streams, Subjects, subjectFilter, type SubjectKey } from '../subjects';
import { validate } from '../validation';
import { MSG_ID_HEADER, SCHEMA_HEADER, buildAsyncApi, channelId, schemaId, toJsonSchema } from './build';
import { Consumers, Services, consumersOf, respondersOf } from './consumers';
import { EventExamples, RpcExamples } from './examples';

// The parser's first run loads its Spectral rule set, which takes a few seconds on a small machine.
jest.setTimeout(60_000);

// The document is walked freely in assertions; its shape is what the parser test checks.

type Obj = Record<string, any>;
const doc = buildAsyncApi() as Obj;
const subjectKeys = Object.keys(Subjects) as SubjectKey[];

/** Errors and warnings (Spectral severities 0 and 1); information and hints are left out. */
function problems(diagnostics: Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => Number(d.severity) <= 1)
    .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
}

function resolve(pointer: string): Obj {
  return pointer
    .slice(2)
    .split('/')
    .reduce<Obj>((node, token) => node?.[token] as Obj, doc);
}

function walk(value: unknown, visit: (node: object, path: string) => void, path = '#'): void {
  if (value === null || typeof value !== 'object') return;
  visit(value, path);
  for (const [key, child] of Object.entries(value)) walk(child, visit, `${path}/${key}`);
}

describe('AsyncAPI document validity (@asyncapi/parser)', () => {
  const parser = new Parser();

  it('is a valid AsyncAPI 3.0.0 document with no errors or warnings', async () => {
    const { document, diagnostics } = await parser.parse(doc as { asyncapi: string });
    expect(problems(diagnostics)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    expect(document!.info().title()).toBe('Customer Data Platform events');
    expect(document!.channels().length).toBe(Object.keys(doc.channels).length);
    expect(document!.operations().length).toBe(Object.keys(doc.operations).length);
    const lookup = document!
      .operations()
      .get(`collection.reply.${channelId(RpcSubjects.customerLookup.name)}`);
    expect(lookup?.isReceive()).toBe(true);
    expect(lookup?.reply()?.messages().length).toBe(1);
  });

  it('rejects a broken document (the validator is really checking)', async () => {
    const broken = JSON.parse(JSON.stringify(doc)) as Obj;
    delete broken.info.title;
    broken.operations['collection.send.eventIngested'].channel = { $ref: '#/channels/nope' };
    const { document, diagnostics } = await parser.parse(broken as { asyncapi: string });
    expect(document).toBeUndefined();
    expect(problems(diagnostics).length).toBeGreaterThan(0);
  });
});

describe('buildAsyncApi()', () => {
  it('is plain JSON: no TypeBox symbols, no undefined, no functions', () => {
    walk(doc, (node, path) => {
      expect([path, Object.getOwnPropertySymbols(node)]).toEqual([path, []]);
    });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(JSON.stringify(doc)).not.toMatch(/TypeBox|"\[Kind\]"|Symbol\(/);
  });

  it('returns a new document each call, equal to the last', () => {
    const again = buildAsyncApi();
    expect(again).not.toBe(doc);
    expect(again).toEqual(doc);
  });

  it('has the required top level', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info.version).toBe(
      JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version,
    );
    expect(doc.servers.nats).toMatchObject({ host: 'localhost:4222', protocol: 'nats' });
    for (const phrase of [
      '[<prefix>.]<name>.<workspaceId>',
      'cdp.*.*.<workspaceId>',
      'Nats-Msg-Id',
      'Cdp-Schema: <name>/v<version>',
      'cdp.dlq.<service>.<entity>.<action>.<workspaceId>',
      'Cdp-Dlq-Reason',
      'durable consumer',
      'side by side',
    ])
      expect(doc.info.description).toContain(phrase);
  });

  it('resolves every $ref', () => {
    const refs: string[] = [];
    walk(doc, (node) => {
      const pointer = (node as Obj).$ref;
      if (typeof pointer === 'string') refs.push(pointer);
    });
    expect(refs.length).toBeGreaterThan(0);
    for (const pointer of refs) expect([pointer, resolve(pointer) !== undefined]).toEqual([pointer, true]);
  });

  describe.each(subjectKeys.map((k) => [Subjects[k].name, k] as const))('event %s', (name, key) => {
    const subject = Subjects[key];
    const id = channelId(name);
    const channel = doc.channels[id];
    const msgId = `${id}V${subject.version}`;
    const message = doc.components.messages[msgId];

    it('has a channel <name>.{workspaceId} on its stream', () => {
      expect(channel).toMatchObject({
        address: `${name}.{workspaceId}`,
        parameters: { workspaceId: { $ref: '#/components/parameters/workspaceId' } },
        'x-stream': Streams[subject.stream].name,
      });
      expect(channel.messages[msgId]).toEqual({ $ref: `#/components/messages/${msgId}` });
    });

    it('has the TypeBox schema as payload and the Cdp-Schema header', () => {
      expect(resolve(message.payload.$ref)).toEqual(JSON.parse(JSON.stringify(subject.schema)));
      expect(message.headers.required).toEqual([MSG_ID_HEADER, SCHEMA_HEADER]);
      expect(message.headers.properties[SCHEMA_HEADER].const).toBe(`${name}/v${subject.version}`);
      expect(message['x-cdp-schema']).toBe(schemaId(subject));
    });

    it('has a valid example', () => {
      expect(message.examples).toHaveLength(1);
      const [example] = message.examples;
      expect(example.payload).toEqual(toJsonSchema(EventExamples[key]));
      expect(validate(subject.schema, example.payload)).toMatchObject({ ok: true });
      expect(example.headers[SCHEMA_HEADER]).toBe(schemaId(subject));
      expect(example.headers[MSG_ID_HEADER]).toMatch(/^\S+$/);
    });

    it('is sent by its producer and received by the consumers of the consumer map', () => {
      const messageRef = { $ref: `#/channels/${id}/messages/${msgId}` };
      const ops = Object.entries(doc.operations as Record<string, Obj>).filter(
        ([, op]) => op.channel.$ref === `#/channels/${id}`,
      );
      const senders = ops.filter(([, op]) => op.action === 'send');
      expect(senders.map(([opId]) => opId)).toEqual([`${subject.producer}.send.${id}`]);
      expect(senders[0]?.[1].messages).toContainEqual(messageRef);
      const receivers = ops.filter(([, op]) => op.action === 'receive');
      expect(receivers.map(([, op]) => op['x-service'] as string)).toEqual(consumersOf(subject));
      for (const [, op] of receivers) {
        expect(op.messages).toContainEqual(messageRef);
        expect(op['x-consumer-filter']).toBe(subjectFilter('', name));
      }
    });
  });

  describe.each(Object.keys(RpcSubjects).map((k) => [k] as const))('request/reply %s', (key) => {
    const rpc = RpcSubjects[key as keyof typeof RpcSubjects];
    const id = channelId(rpc.name);

    it('has a request channel without a stream and an inbox reply channel', () => {
      expect(doc.channels[id]).toMatchObject({ address: `${rpc.name}.{workspaceId}` });
      expect(doc.channels[id]['x-stream']).toBeUndefined();
      expect(doc.channels[`${id}Reply`].address).toBeNull();
    });

    it('is answered by its responder with a reply', () => {
      const op = doc.operations[`${rpc.responder}.reply.${id}`];
      expect(op).toMatchObject({
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        messages: [{ $ref: `#/channels/${id}/messages/${id}RequestV${rpc.version}` }],
        reply: {
          channel: { $ref: `#/channels/${id}Reply` },
          messages: [{ $ref: `#/channels/${id}Reply/messages/${id}ReplyV${rpc.version}` }],
        },
      });
      expect(resolve(resolve(op.messages[0].$ref).$ref).payload).toEqual({
        $ref: `#/components/schemas/${id[0]!.toUpperCase()}${id.slice(1)}RequestV1`,
      });
    });

    it('has valid request and reply examples', () => {
      const request = doc.components.messages[`${id}RequestV${rpc.version}`];
      const reply = doc.components.messages[`${id}ReplyV${rpc.version}`];
      expect(request.examples.map((e: Obj) => e.payload as unknown)).toEqual(
        RpcExamples[key as keyof typeof RpcExamples].map((p) => p.request),
      );
      for (const e of request.examples) expect(validate(rpc.request, e.payload)).toMatchObject({ ok: true });
      for (const e of reply.examples) expect(validate(rpc.reply, e.payload)).toMatchObject({ ok: true });
    });
  });

  it('has a dead-letter channel on the DLQ stream', () => {
    expect(doc.channels.deadLetter).toMatchObject({
      address: 'cdp.dlq.{service}.{entity}.{action}.{workspaceId}',
      'x-stream': Streams.DLQ.name,
      parameters: { service: { enum: Services.filter((s) => Consumers[s].receives.length > 0) } },
    });
  });
});

describe('the consumer map', () => {
  it('names only subjects of the contracts', () => {
    const known = new Set(Object.values(Subjects));
    const knownRpc = new Set(Object.values(RpcSubjects));
    for (const service of Services) {
      for (const s of Consumers[service].receives) expect(known.has(s as never)).toBe(true);
      for (const r of Consumers[service].answers) expect(knownRpc.has(r as never)).toBe(true);
      expect(new Set(Consumers[service].receives).size).toBe(Consumers[service].receives.length);
    }
  });

  it('agrees with the responder named on each request/reply subject', () => {
    for (const rpc of Object.values(RpcSubjects)) expect(respondersOf(rpc)).toEqual([rpc.responder]);
  });

  it('routes the main flows', () => {
    expect(consumersOf(Subjects.deliveryStatus)).toEqual(['collection']);
    expect(consumersOf(Subjects.eventIngested)).toEqual(['analysis']);
    expect(consumersOf(Subjects.deliveryRequested)).toEqual(['delivery']);
    expect(consumersOf(Subjects.segmentEntered)).toEqual(['campaign', 'delivery']);
    expect(consumersOf(Subjects.customerErased)).toEqual(['analysis', 'campaign', 'delivery']);
    expect(consumersOf(Subjects.segmentExited)).toEqual(['campaign', 'delivery']);
    expect(consumersOf(Subjects.profileUpdated)).toEqual(['analysis']);
    expect(consumersOf(Subjects.identityMerged)).toEqual(['analysis']);
  });
});
