/**
 * The raw store tier beside raw/fixed-rate.ts's paced publishes, as its own process: pulls the
 * stream 250 calls at a time, COPYs them into the `events` table and acks them. No identity
 * resolution, no dedup, no announcements: what storing alone costs the infrastructure.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyEscape } from './postgres-copy';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

function copyLine(workspaceId: string, m: JsMsg): string {
  const call = m.json<{
    messageId: string;
    event: string;
    properties: unknown;
    context: unknown;
    timestamp: string;
  }>();
  const receivedAt = new Date().toISOString();
  return `${[workspaceId, call.messageId, 'track', call.event, 'web', copyEscape(JSON.stringify(call.properties)), copyEscape(JSON.stringify(call.context)), call.timestamp, receivedAt].join('\t')}\n`;
}

async function store(): Promise<void> {
  const workspaceId = env('WORKSPACE_ID');
  const stream = env('STREAM');
  const pg = new Client({ connectionString: env('DATABASE_URL') });
  await pg.connect();
  const nc = await connect({ servers: env('NATS_URL') });
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.add(stream, { durable_name: 'raw_store', ack_policy: AckPolicy.Explicit });
  const consumer = jetstream(nc).consumers.getConsumerFromInfo(info);
  let stopping = false;
  process.once('SIGTERM', () => (stopping = true));
  console.log('ready');
  while (!stopping) {
    const messages: JsMsg[] = [];
    for await (const m of await consumer.fetch({ max_messages: 250, expires: 1000 })) messages.push(m);
    if (!messages.length) continue;
    await pipeline(
      Readable.from(messages.map((m) => copyLine(workspaceId, m))),
      pg.query(
        copyFrom(
          'COPY events (workspace_id, message_id, type, name, channel, properties, context, occurred_at, received_at) FROM STDIN',
        ),
      ),
    );
    for (const m of messages) m.ack();
  }
  await nc.drain();
  await pg.end();
  process.exit(0);
}

store().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
