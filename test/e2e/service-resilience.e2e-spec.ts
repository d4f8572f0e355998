/**
 * A service as ops run it: bad configuration stops it by name; a dependency that goes away
 * turns requests into 503 + Retry-After (never a 500 or a silent drop) and readiness fails;
 * when it comes back the service serves again without a restart.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase } from '@cdp/db';
import {
  cleanUpRun,
  NATS_URL,
  testPrefix,
  freePort,
  REPO_ROOT,
  ServiceProcess,
  waitFor,
  TcpProxy,
} from '@cdp/testing';

describe('service start-up and dependency outages', () => {
  it.each(['collection', 'analysis', 'campaign', 'delivery'])(
    '%s refuses to start with a bad variable and names it',
    (service) => {
      const result = spawnSync(process.execPath, ['dist/main.js'], {
        cwd: join(REPO_ROOT, 'apps', service),
        env: { ...process.env, PORT: 'eighty', NATS_PREFIX: 'not.one.token' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toContain('PORT');
      expect(result.stderr).toContain('(got \\"eighty\\")');
      expect(result.stderr).toContain('NATS_PREFIX');
    },
  );

  describe('collection behind cut-able Postgres and NATS connections', () => {
    const prefix = testPrefix('outage');
    const postgres = new TcpProxy('127.0.0.1', 5432);
    const nats = new TcpProxy('127.0.0.1', Number(new URL(NATS_URL).port || 4222));
    let database: { url: string; drop(): Promise<void> };
    let collection: ServiceProcess;
    let keys: { writeKey: string; apiKey: string };

    beforeAll(async () => {
      database = await createTestDatabase(`cdp_e2e_${prefix}`);
      const output = spawnSync(
        process.execPath,
        [join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'), '--workspace', 'outage', '--json'],
        {
          env: { ...process.env, DATABASE_URL: database.url },
          encoding: 'utf8',
        },
      );
      keys = JSON.parse(output.stdout);
      await postgres.start();
      await nats.start();
      const viaProxy = new URL(database.url);
      viaProxy.port = String(postgres.port);
      collection = new ServiceProcess('collection', await freePort(), {
        DATABASE_URL: viaProxy.toString(),
        NATS_URL: `nats://127.0.0.1:${nats.port}`,
        NATS_PREFIX: prefix,
        LOG_LEVEL: 'warn',
      });
      collection.start();
      await collection.ready();
    });

    afterAll(async () => {
      const code = await collection?.stop();
      await postgres.stop();
      await nats.stop();
      await cleanUpRun(prefix);
      await database?.drop();
      expect(code).toBe(0);
    });

    const track = (messageId: string) =>
      fetch(`${collection.url}/v1/track`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${keys.writeKey}:`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ userId: 'u-1', event: 'Outage Probe', messageId }),
      });
    const lookup = () =>
      fetch(`${collection.url}/v1/customers?identifierType=user_id&identifierValue=u-1`, {
        headers: { authorization: `Bearer ${keys.apiKey}` },
      });

    it('answers 503 with Retry-After while NATS is gone, and accepts again when it is back', async () => {
      expect((await track('before-nats-cut')).status).toBe(200);
      nats.cut();
      const during = await track('during-nats-cut');
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('5');
      expect((await fetch(`${collection.url}/health/ready`)).status).toBe(503);
      nats.restore();
      await waitFor(
        'NATS reconnect',
        async () => (await track('after-nats-cut')).status === 200,
        30_000,
        500,
      );
    });

    it('answers 503 with Retry-After while Postgres is gone, and serves again when it is back', async () => {
      await waitFor('the customer to be stored', async () => (await lookup()).status === 200);
      postgres.cut();
      const during = await lookup();
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('5');
      const ready = await fetch(`${collection.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).error.postgres.status).toBe('down');
      postgres.restore();
      await waitFor('Postgres to serve again', async () => (await lookup()).status === 200, 30_000, 500);
      // Every event acknowledged before, during and after the outages is stored once.
      const customer = (await (await lookup()).json()) as any;
      const events = await waitFor('all accepted events stored', async () => {
        const res = await fetch(`${collection.url}/v1/customers/${customer.id}/events`, {
          headers: { authorization: `Bearer ${keys.apiKey}` },
        });
        const page = (await res.json()) as any;
        return page.items.length === 2 ? page.items : undefined;
      });
      expect(events.map((e: any) => e.messageId).sort()).toEqual(['after-nats-cut', 'before-nats-cut']);
    });
  });
});
