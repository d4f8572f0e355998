/**
 * The least an API replica can do under the design's rule that a 2xx follows the JetStream ack,
 * as its own process (raw/fixed-rate.ts runs two): node:http, JSON.parse of the body, the calls
 * of one event-loop turn published as one message (group commit, as the collection does), each
 * answered once its message is acked. No auth, checks, normalisation, logging or metrics.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { requiredEnv } from './env';

interface Waiting {
  json: string;
  res: ServerResponse;
}

async function serve(): Promise<void> {
  const subject = requiredEnv('SUBJECT');
  const nc = await connect({ servers: requiredEnv('NATS_URL') });
  const js = jetstream(nc);
  let turn: Waiting[] = [];

  const answer = (waiting: Waiting[], status: number) => {
    const body = status === 200 ? '{"success":true}' : '{"success":false}';
    for (const { res } of waiting)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  };
  const flush = () => {
    const group = turn;
    turn = [];
    const [first] = group;
    const body = group.length === 1 ? first!.json : `[${group.map((w) => w.json).join(',')}]`;
    js.publish(subject, body, { msgID: randomUUID() }).then(
      () => answer(group, 200),
      () => answer(group, 503),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let call: Record<string, unknown>;
      try {
        call = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-length': 0 }).end();
        return;
      }
      call.receivedAt = new Date().toISOString();
      if (!turn.length) setImmediate(flush);
      turn.push({ json: JSON.stringify(call), res });
    });
  });
  server.listen(Number(requiredEnv('PORT')), '127.0.0.1', () => console.log('ready'));
  process.once('SIGTERM', () => {
    server.close();
    void nc.drain().then(() => process.exit(0));
  });
}

serve().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
