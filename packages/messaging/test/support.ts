// Helpers of the integration tests: a random prefix per test file (so runs share the local NATS),
// stream clean-up, polling, payload factories and a TCP proxy that can "take NATS down".
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Streams, streamName, type PayloadOf, type StreamKey, Subjects } from '@cdp/contracts';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export function randomPrefix(): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export async function natsAdmin(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: NATS_URL, name: 'messaging-int-test' });
  return { nc, jsm: await jetstreamManager(nc) };
}

/** Deletes every stream of `prefix` that exists. */
export async function deleteStreams(jsm: JetStreamManager, prefix: string): Promise<void> {
  for (const key of Object.keys(Streams) as StreamKey[]) {
    await jsm.streams.delete(streamName(prefix, key)).catch(() => undefined);
  }
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export function ingested(workspaceId: string, n = 1): PayloadOf<typeof Subjects.eventIngested> {
  return {
    workspaceId,
    eventId: String(n),
    messageId: `msg-${workspaceId}-${n}`,
    customerId: `cus-${n}`,
    customerCode: `C${n}`,
    type: 'track',
    name: 'Product Viewed',
    channel: 'web',
    properties: { n },
    occurredAt: '2026-01-02T03:04:05.000Z',
    receivedAt: '2026-01-02T03:04:06.000Z',
  };
}

/** A TCP proxy in front of NATS; `down()` drops every connection and stops listening, `up()` listens again on the same port. */
export class NatsProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(NATS_URL);
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 4222), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
}
