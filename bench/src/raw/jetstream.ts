import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS_URL } from '@cdp/testing';

/**
 * The strong way to publish to JetStream: async publishes with a window of outstanding acks, to a
 * file-storage stream like the platform's. Returns acknowledged messages per second.
 */
export async function rawJetStreamPublish(opts: {
  prefix: string;
  messages: number;
  bytes: number;
  window: number;
}) {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const stream = `${opts.prefix}_RAW`;
  await jsm.streams.add({ name: stream, subjects: [`${opts.prefix}.raw.>`], storage: 'file' });
  let seconds: number;
  try {
    const js = jetstream(nc);
    const body = new Uint8Array(opts.bytes).fill(120);
    const started = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < opts.messages) {
        const i = next++;
        await js.publish(`${opts.prefix}.raw.ws`, body, { msgID: `raw-${i}` });
      }
    };
    await Promise.all(Array.from({ length: opts.window }, worker));
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
  return {
    messages: opts.messages,
    bytes: opts.bytes,
    window: opts.window,
    seconds,
    perSecond: opts.messages / seconds,
  };
}
