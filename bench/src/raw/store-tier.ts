/**
 * The raw store tier beside raw/fixed-rate.ts's paced publishes, as its own process: pulls the
 * stream 250 messages at a time (a call each, or an array of calls grouped by raw/bare-api.ts),
 * COPYs their calls into the `events` table and acks them. No identity resolution, no dedup, no
 * announcements: what storing alone costs the infrastructure.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { requiredEnv as env } from './env';
import { copyEscape } from './postgres-copy';

interface Call {
  messageId: string;
  event: string;
  properties: unknown;
  context: unknown;
  timestamp: string;
  /** Set by raw/bare-api.ts; a call published directly is received when it is stored. */
  receivedAt?: string;
}

function copyLines(workspaceId: string, m: JsMsg): string[] {
  const body = m.json<Call | Call[]>();
  return (Array.isArray(body) ? body : [body]).map((call) => {
    const receivedAt = call.receivedAt ?? new Date().toISOString();
    return `${[workspaceId, call.messageId, 'track', call.event, 'web', copyEscape(JSON.stringify(call.properties)), copyEscape(JSON.stringify(call.context)), call.timestamp, receivedAt].join('\t')}\n`;
  });
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
      Readable.from(messages.flatMap((m) => copyLines(workspaceId, m))),
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
