import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { deleteRedisKeys } from './redis';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A prefix of its own for each test run, so runs can share one NATS server. */
export function testPrefix(label: string): string {
  return `t_${label}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Deletes every stream the run created (their names start with the prefix). */
export async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(`${prefix}_`)) await jsm.streams.delete(stream.config.name);
    }
  } finally {
    await nc.close();
  }
}

/**
 * Removes what a run left on the shared servers: its JetStream streams and every Redis key
 * carrying its prefix (queues of the services it started). Databases are dropped by their owners.
 */
export async function cleanUpRun(prefix: string): Promise<void> {
  await deleteStreams(prefix);
  await deleteRedisKeys(prefix);
}
