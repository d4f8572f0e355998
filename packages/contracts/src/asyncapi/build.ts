import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RpcSubjects,
  Streams,
  Subjects,
  deadLetterSubject,
  streamSubjects,
  subjectFilter,
  type EventSubject,
  type RpcSubject,
  type ServiceName,
  type StreamKey,
  type SubjectKey,
} from '../subjects';
import { Consumers, Services, consumersOf, respondersOf } from './consumers';
import { EventExamples, RpcExamples } from './examples';
import { issuesText, validate } from '../validation';

export const ASYNCAPI_VERSION = '3.0.0';
/** Header naming the payload contract of a message: `<name>/v<version>`. */
export const SCHEMA_HEADER = 'Cdp-Schema';
/** JetStream deduplication header. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';
/** Header a consumer sets on a dead letter to say why it gave up. */
export const DLQ_REASON_HEADER = 'Cdp-Dlq-Reason';

const EXAMPLE_WORKSPACE = 'ws_acme';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The `Cdp-Schema` header value of a contract. */
export function schemaId(subject: { name: string; version: number }): string {
  return `${subject.name}/v${subject.version}`;
}

/** AsyncAPI channel id of a subject name: `cdp.event.ingested` -> `eventIngested`, `cdp-rpc.customer.lookup` -> `customerLookup`. */
export function channelId(name: string): string {
  const tokens = name.split('.').slice(1);
  return tokens.map((t, i) => (i === 0 ? t : t.charAt(0).toUpperCase() + t.slice(1))).join('');
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/**
 * Plain JSON copy of a TypeBox schema: only string keys survive, so TypeBox's symbol keys
 * (`[Kind]`, `[OptionalKind]`, `[Hint]` ...) never reach the document, and neither do
 * `undefined` values or functions.
 */
export function toJsonSchema(value: unknown): Json {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function') continue;
      out[key] = toJsonSchema(v);
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value as Json;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' && pkg.version ? pkg.version : '1.0.0';
  } catch {
    return '1.0.0';
  }
}

/** Stable made-up dedup id for an example, so the generated document does not change between runs. */
function exampleMsgId(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ref = (pointer: string): JsonObject => ({ $ref: pointer });

function description(): string {
  const streams = (Object.keys(Streams) as StreamKey[])
    .map(
      (key) =>
        `- \`${Streams[key].name}\`: ${streamSubjects('', key)
          .map((s) => `\`${s}\``)
          .join(', ')} — ${Streams[key].description}, kept ${Streams[key].maxAgeDays} days.`,
    )
    .join('\n');
  return [
    'Events and look-ups exchanged by the CDP services (collection, analysis, campaign, delivery) over NATS. Generated from `@cdp/contracts` (`packages/contracts`); do not edit by hand, run `pnpm asyncapi`.',
    '',
    '## Subjects',
    '',
    'A full subject is `[<prefix>.]<name>.<workspaceId>`, e.g. `cdp.event.ingested.ws_acme`.',
    '',
    '- `<name>` is `cdp.<entity>.<action>` for events and `cdp-rpc.<entity>.<action>` for request/reply look-ups.',
    '- The last token is the workspace (tenant) id, so a subscriber can filter by tenant: `cdp.*.*.<workspaceId>` is everything of one workspace, `cdp.event.ingested.*` one event for all workspaces. Every event and request payload also carries `workspaceId`, so a consumer never has to parse the subject.',
    '- `<prefix>` is one token (`[A-Za-z0-9_-]*`) used only to run test suites in parallel on one NATS server; production runs without it. Stream names get it too (`<prefix>_CDP_EVENTS`).',
    '',
    '## Streams and consumers',
    '',
    'Events are published to JetStream. Each stream covers whole subject families, so a new subject of a family needs no stream change:',
    '',
    streams,
    '',
    'Every consuming service reads through its own durable consumer, filtered to the subjects it handles for all workspaces, and acknowledges a message only after handling it. `cdp-rpc.*` subjects are never on a stream: they are core NATS request/reply.',
    '',
    '## Headers',
    '',
    `- \`${MSG_ID_HEADER}\`: set by the producer, unique per logical message and identical on every retry of the same publish; JetStream drops a repeat within the stream's duplicate window.`,
    `- \`${SCHEMA_HEADER}: <name>/v<version>\`, e.g. \`${SCHEMA_HEADER}: cdp.event.ingested/v1\`: the payload contract of the message.`,
    '',
    '## Dead letters',
    '',
    `A consumer that gives up on a message (invalid payload, retries exhausted) publishes it unchanged to \`cdp.dlq.<service>.<entity>.<action>.<workspaceId>\` (stream \`${Streams.DLQ.name}\`), e.g. \`${deadLetterSubject('', 'campaign', Subjects.deliveryStatus.name, EXAMPLE_WORKSPACE)}\`, with the reason in the \`${DLQ_REASON_HEADER}\` header.`,
    '',
    '## Versioning',
    '',
    '- Additive changes keep the version: a new optional field or a looser constraint. Payload objects are open (unknown fields are allowed), so old consumers ignore a new field. A new enum value is rejected by old consumers: roll them out before (or with) the producer that starts sending it.',
    '- Breaking changes (removing or renaming a field, making one required, changing a type or meaning) add a new version: a new `...V<n+1>` schema and subject entry with `version: n+1`. The producer publishes both versions side by side on the same subject, told apart by `Cdp-Schema` and each with its own `Nats-Msg-Id` (the same id would be dropped as a duplicate), until every consumer has moved; then the old version is retired.',
  ].join('\n');
}

function eventHeaders(subject: { name: string; version: number }): JsonObject {
  return {
    type: 'object',
    required: [MSG_ID_HEADER, SCHEMA_HEADER],
    properties: {
      [MSG_ID_HEADER]: {
        type: 'string',
        minLength: 1,
        description:
          'JetStream deduplication id: unique per logical message, identical on every retry of the same publish.',
      },
      [SCHEMA_HEADER]: {
        type: 'string',
        const: schemaId(subject),
        description: 'Payload contract of the message.',
      },
    },
  };
}

function rpcHeaders(subject: { name: string; version: number }): JsonObject {
  return {
    type: 'object',
    properties: {
      [SCHEMA_HEADER]: {
        type: 'string',
        const: schemaId(subject),
        description: 'Payload contract of the message.',
      },
    },
  };
}

interface Parts {
  channels: Record<string, JsonObject>;
  operations: Record<string, JsonObject>;
  messages: Record<string, JsonObject>;
  schemas: Record<string, Json>;
}

function addEvent(parts: Parts, key: SubjectKey, subject: EventSubject): void {
  const chId = channelId(subject.name);
  const msgId = `${chId}V${subject.version}`;
  const schemaName = pascal(msgId);
  const stream = Streams[subject.stream];

  parts.schemas[schemaName] = toJsonSchema(subject.schema);
  parts.messages[msgId] = {
    name: subject.name,
    title: `${subject.name} v${subject.version}`,
    summary: subject.summary,
    contentType: 'application/json',
    headers: eventHeaders(subject),
    payload: ref(`#/components/schemas/${schemaName}`),
    examples: [
      {
        name: `${chId}Example`,
        summary: `A valid ${schemaId(subject)} message`,
        headers: { [MSG_ID_HEADER]: exampleMsgId(schemaId(subject)), [SCHEMA_HEADER]: schemaId(subject) },
        payload: toJsonSchema(EventExamples[key]),
      },
    ],
    'x-cdp-schema': schemaId(subject),
    'x-version': subject.version,
  };

  const channel = (parts.channels[chId] ??= {
    address: `${subject.name}.{workspaceId}`,
    title: subject.name,
    summary: subject.summary,
    description: `Event subject \`${subject.name}.<workspaceId>\` on JetStream stream \`${stream.name}\` (${stream.description.toLowerCase()}). Filter for all workspaces: \`${subjectFilter('', subject.name)}\`.`,
    messages: {},
    parameters: { workspaceId: ref('#/components/parameters/workspaceId') },
    'x-stream': stream.name,
  });
  if (channel['x-stream'] !== stream.name)
    throw new Error(
      `${subject.name}: versions are on different streams (${JSON.stringify(channel['x-stream'])}, ${stream.name})`,
    );
  (channel.messages as JsonObject)[msgId] = ref(`#/components/messages/${msgId}`);

  const messageRef = ref(`#/channels/${chId}/messages/${msgId}`);
  const send = (parts.operations[`${subject.producer}.send.${chId}`] ??= {
    action: 'send',
    channel: ref(`#/channels/${chId}`),
    title: `${subject.producer} publishes ${subject.name}`,
    summary: subject.summary,
    description: `JetStream publish to \`${subject.name}.<workspaceId>\` (stream \`${stream.name}\`) with the \`${MSG_ID_HEADER}\` and \`${SCHEMA_HEADER}\` headers.`,
    tags: [{ name: subject.producer }],
    messages: [],
    'x-service': subject.producer,
  });
  (send.messages as Json[]).push(messageRef);

  for (const service of consumersOf(subject)) {
    const receive = (parts.operations[`${service}.receive.${chId}`] ??= {
      action: 'receive',
      channel: ref(`#/channels/${chId}`),
      title: `${service} receives ${subject.name}`,
      summary: subject.summary,
      description: `Durable JetStream consumer of ${service} on stream \`${stream.name}\`, filter \`${subjectFilter('', subject.name)}\` (all workspaces); a message it gives up on goes to \`cdp.dlq.${service}.${subject.name.replace(/^cdp\./, '')}.<workspaceId>\`.`,
      tags: [{ name: service }],
      messages: [],
      'x-service': service,
      'x-consumer-filter': subjectFilter('', subject.name),
    });
    (receive.messages as Json[]).push(messageRef);
  }
}

function addRpc(parts: Parts, key: keyof typeof RpcSubjects, rpc: RpcSubject): void {
  const chId = channelId(rpc.name);
  const replyChId = `${chId}Reply`;
  const requestMsgId = `${chId}RequestV${rpc.version}`;
  const replyMsgId = `${chId}ReplyV${rpc.version}`;
  const examples = RpcExamples[key];

  parts.schemas[pascal(requestMsgId)] = toJsonSchema(rpc.request);
  parts.schemas[pascal(replyMsgId)] = toJsonSchema(rpc.reply);
  parts.messages[requestMsgId] = {
    name: `${rpc.name} request`,
    title: `${rpc.name} v${rpc.version} request`,
    summary: rpc.summary,
    contentType: 'application/json',
    headers: rpcHeaders(rpc),
    payload: ref(`#/components/schemas/${pascal(requestMsgId)}`),
    examples: examples.map((e, i) => ({ name: `${chId}Request${i + 1}`, payload: toJsonSchema(e.request) })),
    'x-cdp-schema': schemaId(rpc),
    'x-version': rpc.version,
  };
  parts.messages[replyMsgId] = {
    name: `${rpc.name} reply`,
    title: `${rpc.name} v${rpc.version} reply`,
    summary: `Answer to ${rpc.name}`,
    contentType: 'application/json',
    headers: rpcHeaders(rpc),
    payload: ref(`#/components/schemas/${pascal(replyMsgId)}`),
    examples: examples.map((e, i) => ({ name: `${chId}Reply${i + 1}`, payload: toJsonSchema(e.reply) })),
    'x-cdp-schema': schemaId(rpc),
    'x-version': rpc.version,
  };

  const channel = (parts.channels[chId] ??= {
    address: `${rpc.name}.{workspaceId}`,
    title: rpc.name,
    summary: rpc.summary,
    description: `Core NATS request/reply subject \`${rpc.name}.<workspaceId>\` (not on a stream, no retries by the bus: a requester that gets no reply in time gets an error).`,
    messages: {},
    parameters: { workspaceId: ref('#/components/parameters/workspaceId') },
  });
  (channel.messages as JsonObject)[requestMsgId] = ref(`#/components/messages/${requestMsgId}`);
  const replyChannel = (parts.channels[replyChId] ??= {
    address: null,
    title: `${rpc.name} reply`,
    summary: `Reply to ${rpc.name}`,
    description:
      "The requester's inbox: the reply subject NATS attached to the request (`_INBOX.…`), so its address is only known at run time.",
    messages: {},
  });
  (replyChannel.messages as JsonObject)[replyMsgId] = ref(`#/components/messages/${replyMsgId}`);

  for (const service of respondersOf(rpc)) {
    const op = (parts.operations[`${service}.reply.${chId}`] ??= {
      action: 'receive',
      channel: ref(`#/channels/${chId}`),
      title: `${service} answers ${rpc.name}`,
      summary: rpc.summary,
      description: `Subscription of ${service} to \`${subjectFilter('', rpc.name)}\`; every request gets exactly one reply on its inbox.`,
      tags: [{ name: service }],
      messages: [],
      reply: { channel: ref(`#/channels/${replyChId}`), messages: [] },
      'x-service': service,
    });
    (op.messages as Json[]).push(ref(`#/channels/${chId}/messages/${requestMsgId}`));
    ((op.reply as JsonObject).messages as Json[]).push(ref(`#/channels/${replyChId}/messages/${replyMsgId}`));
  }
}

function addDeadLetters(parts: Parts): void {
  const consuming = Services.filter((s) => Consumers[s].receives.length > 0);
  const example = Subjects.deliveryStatus;
  const rejected = { ...EventExamples.deliveryStatus, status: 'queued' };
  const checked = validate(example.schema, rejected);
  if (checked.ok) throw new Error('the dead-letter example must fail its contract');
  parts.messages.deadLetterV1 = {
    name: 'cdp.dlq',
    title: 'Dead letter',
    summary: 'A message a consumer gave up on, unchanged',
    contentType: 'application/json',
    headers: {
      type: 'object',
      required: [DLQ_REASON_HEADER],
      properties: {
        [DLQ_REASON_HEADER]: {
          type: 'string',
          minLength: 1,
          description: 'Why the consumer gave up (validation issues, last error).',
        },
        [SCHEMA_HEADER]: {
          type: 'string',
          description: 'Contract of the original message, when it had one.',
        },
      },
    },
    payload: {
      description:
        'The original message body, unchanged (it may not match its schema: that can be why it is here).',
    },
    examples: [
      {
        name: 'deadLetterExample',
        summary: `${deadLetterSubject('', 'campaign', example.name, EXAMPLE_WORKSPACE)}: campaign gave up on a delivery status`,
        headers: { [DLQ_REASON_HEADER]: issuesText(checked.issues), [SCHEMA_HEADER]: schemaId(example) },
        payload: toJsonSchema(rejected),
      },
    ],
  };
  parts.channels.deadLetter = {
    address: 'cdp.dlq.{service}.{entity}.{action}.{workspaceId}',
    title: 'cdp.dlq',
    summary: 'Dead letters of every consumer',
    description: `Where a consumer puts a message it gave up on: \`cdp.dlq.<service>.<entity>.<action>.<workspaceId>\` on stream \`${Streams.DLQ.name}\`, with the reason in \`${DLQ_REASON_HEADER}\`. \`<entity>.<action>\` is the original subject name without \`cdp.\`.`,
    messages: { deadLetterV1: ref('#/components/messages/deadLetterV1') },
    parameters: {
      service: { enum: consuming, description: 'The consumer that gave up.' },
      entity: { description: 'Entity token of the original subject (`event` for `cdp.event.ingested`).' },
      action: { description: 'Action token of the original subject (`ingested` for `cdp.event.ingested`).' },
      workspaceId: ref('#/components/parameters/workspaceId'),
    },
    'x-stream': Streams.DLQ.name,
  };
}

/** The AsyncAPI 3.0.0 document of every subject in `Subjects` and `RpcSubjects`. */
export function buildAsyncApi(): object {
  const parts: Parts = { channels: {}, operations: {}, messages: {}, schemas: {} };
  for (const key of Object.keys(Subjects) as SubjectKey[]) addEvent(parts, key, Subjects[key]);
  for (const key of Object.keys(RpcSubjects) as (keyof typeof RpcSubjects)[])
    addRpc(parts, key, RpcSubjects[key]);
  addDeadLetters(parts);

  const serviceDescriptions: Record<ServiceName, string> = {
    collection: 'Tracking API, identity resolution, customer profiles and consent ledger',
    analysis: 'Segments and scores',
    campaign: 'Campaign orchestration',
    delivery: 'Outbound messages and receipts',
  };

  return toJsonSchema({
    asyncapi: ASYNCAPI_VERSION,
    info: {
      title: 'Customer Data Platform events',
      version: packageVersion(),
      description: description(),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      tags: Services.map((s) => ({ name: s, description: serviceDescriptions[s] })),
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: 'localhost:4222',
        protocol: 'nats',
        title: 'Local NATS',
        description: 'NATS with JetStream for local development and tests (`nats://localhost:4222`).',
      },
    },
    channels: parts.channels,
    operations: parts.operations,
    components: {
      schemas: parts.schemas,
      messages: parts.messages,
      parameters: {
        workspaceId: {
          description:
            "Workspace (tenant) id: one subject token matching `^[A-Za-z0-9_-]+$`, the same as the payload's `workspaceId`.",
          examples: [EXAMPLE_WORKSPACE],
        },
      },
    },
    'x-streams': Object.fromEntries(
      (Object.keys(Streams) as StreamKey[]).map((key) => [
        Streams[key].name,
        {
          subjects: streamSubjects('', key),
          description: Streams[key].description,
          maxAgeDays: Streams[key].maxAgeDays,
        },
      ]),
    ),
  }) as JsonObject;
}
