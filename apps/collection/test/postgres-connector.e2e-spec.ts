/** Incremental pull from an operational PostgreSQL table on a BullMQ schedule, as ops would configure it. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, REPO_ROOT, ServiceProcess, testPrefix, waitFor } from '@cdp/testing';

describe('PostgreSQL pull connector', () => {
  const prefix = testPrefix('pull');
  const opsName = `cdp_ops_${prefix}`;
  let database: { url: string; drop(): Promise<void> };
  let admin: Client;
  let ops: Client;
  let collection: ServiceProcess;
  let keys: { apiKey: string; sourceId: string };

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_e2e_${prefix}`);
    const opsUrl = new URL(database.url);
    opsUrl.pathname = `/${opsName}`;
    admin = new Client({ connectionString: new URL('/postgres', database.url).toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${opsName}"`);
    ops = new Client({ connectionString: opsUrl.toString() });
    await ops.connect();
    await ops.query(
      'CREATE TABLE crm_contacts (id bigserial PRIMARY KEY, updated_at timestamptz NOT NULL, customer_no text, email text, tier text)',
    );
    await ops.query(
      `INSERT INTO crm_contacts (updated_at, customer_no, email, tier) VALUES
       ('2026-11-01T10:00:00Z', 'K-1', 'one@example.com', 'gold'),
       ('2026-11-01T10:00:00Z', 'K-2', 'two@example.com', 'silver'),
       ('2026-11-02T10:00:00Z', 'K-3', NULL, 'bronze')`,
    );
    keys = JSON.parse(
      spawnSync(
        process.execPath,
        [
          join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'),
          '--workspace',
          'pull',
          '--source',
          'crm',
          '--json',
        ],
        {
          env: { ...process.env, DATABASE_URL: database.url },
          encoding: 'utf8',
        },
      ).stdout,
    );
    collection = new ServiceProcess('collection', await freePort(), {
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      CRM_DATABASE_URL: opsUrl.toString(),
    });
    collection.start();
    await collection.ready();
  });

  afterAll(async () => {
    const code = await collection?.stop();
    await ops?.end();
    await admin?.query(`DROP DATABASE IF EXISTS "${opsName}" WITH (FORCE)`);
    await admin?.end();
    await cleanUpRun(prefix);
    await database?.drop();
    expect(code).toBe(0);
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${collection.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${keys.apiKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const connector = {
    urlEnv: 'CRM_DATABASE_URL',
    table: 'crm_contacts',
    cursorColumn: 'updated_at',
    idColumn: 'id',
    intervalSeconds: 3600,
    batchSize: 2,
    mapping: {
      type: 'identify',
      userId: { path: 'customer_no' },
      traits: { email: { path: 'email' }, tier: { path: 'tier' } },
      context: { channel: { const: 'operational' } },
    },
  };

  it('refuses unsafe or incomplete configuration with field paths', async () => {
    const bad = await api('PUT', `/v1/sources/${keys.sourceId}/connector`, {
      ...connector,
      table: 'crm; DROP TABLE x',
      intervalSeconds: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: any) => i.path).sort()).toEqual(['/intervalSeconds', '/table']);
  });

  it('pulls every row once, then only rows past the cursor', async () => {
    expect((await api('PUT', `/v1/sources/${keys.sourceId}/connector`, connector)).status).toBe(200);
    expect((await api('POST', `/v1/sources/${keys.sourceId}/connector/run`)).status).toBe(202);
    await waitFor(
      'first pull',
      async () => (await api('GET', `/v1/sources/${keys.sourceId}/connector`)).body.state.totalPulled === 3,
    );
    const k1 = await waitFor('K-1 stored', async () => {
      const res = await api('GET', '/v1/customers?identifierType=user_id&identifierValue=K-1');
      return res.status === 200 ? res.body : undefined;
    });
    expect(k1.traits).toMatchObject({ email: 'one@example.com', tier: 'gold' });

    // A row changes and a new one arrives: the next run reads exactly those two.
    await ops.query(
      "UPDATE crm_contacts SET tier = 'platinum', updated_at = '2026-11-03T10:00:00Z' WHERE customer_no = 'K-1'",
    );
    await ops.query(
      "INSERT INTO crm_contacts (updated_at, customer_no, email, tier) VALUES ('2026-11-03T11:00:00Z', 'K-4', 'four@example.com', 'gold')",
    );
    await api('POST', `/v1/sources/${keys.sourceId}/connector/run`);
    const state = await waitFor('second pull', async () => {
      const s = (await api('GET', `/v1/sources/${keys.sourceId}/connector`)).body.state;
      return s.totalPulled === 5 ? s : undefined;
    });
    expect(state).toMatchObject({ lastPulled: 2, after: { id: '4' } });
    await waitFor(
      'K-1 updated',
      async () => (await api('GET', `/v1/customers/${k1.id}`)).body.traits.tier === 'platinum',
    );

    await api('POST', `/v1/sources/${keys.sourceId}/connector/run`);
    await waitFor('an empty run', async () => {
      const s = (await api('GET', `/v1/sources/${keys.sourceId}/connector`)).body.state;
      return s.lastRunAt !== state.lastRunAt && s.lastPulled === 0 && s.totalPulled === 5;
    });
  });

  it('records why a run failed', async () => {
    await api('PUT', `/v1/sources/${keys.sourceId}/connector`, {
      ...connector,
      urlEnv: 'NOT_CONFIGURED_URL',
    });
    await api('POST', `/v1/sources/${keys.sourceId}/connector/run`);
    await waitFor('the error in the state', async () =>
      /NOT_CONFIGURED_URL is not set/.test(
        (await api('GET', `/v1/sources/${keys.sourceId}/connector`)).body.state.error ?? '',
      ),
    );
  });
});
