// Collection split in two tiers as ops may run it: an API process with CONSUMERS=false (answers
// the tracking API, persists nothing) and a worker process (consumers on) that stores what the
// API made durable. Each tier scales on its own.
import { Client } from 'pg';
import { freePort, NATS_URL, ServiceProcess, waitFor } from '@cdp/testing';
import { RunningCollection } from './collection-process';

describe('collection API and worker tiers (CONSUMERS)', () => {
  let api: RunningCollection;
  let worker: ServiceProcess | undefined;
  let pg: Client;

  beforeAll(async () => {
    api = await RunningCollection.start('tiers', { env: { CONSUMERS: 'false' } });
    pg = new Client({ connectionString: api.database.url });
    await pg.connect();
  });
  afterAll(async () => {
    const workerCode = await worker?.stop();
    await pg?.end();
    const code = await api?.stop();
    expect([code, workerCode]).toEqual([0, 0]);
  });

  const stored = async () =>
    Number(
      (await pg.query<{ n: string }>(`SELECT count(*)::text AS n FROM events WHERE message_id LIKE 'tier-%'`))
        .rows[0]!.n,
    );

  it('the API tier accepts and persists nothing; a worker tier started later stores every call', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({
      type: 'track',
      messageId: `tier-${i}`,
      userId: `tier-user-${i % 4}`,
      event: 'Tiered',
    }));
    expect((await api.send('/v1/batch', { batch })).status).toBe(200);
    expect(
      (await api.send('/v1/track', { messageId: 'tier-single', userId: 'tier-user-0', event: 'Tiered' }))
        .status,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stored()).toBe(0);

    worker = new ServiceProcess('collection', await freePort(), {
      DATABASE_URL: api.database.url,
      NATS_URL,
      NATS_PREFIX: api.prefix,
      LOG_LEVEL: 'warn',
    });
    worker.start();
    await worker.ready();
    await waitFor('21 events stored by the worker tier', async () => (await stored()) === 21, 30_000, 200);
  });
});
