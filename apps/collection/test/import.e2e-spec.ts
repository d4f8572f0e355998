/**
 * File import through the CLI as a user runs it: a streamed NDJSON and a CSV file go through a
 * running collection's /v1/batch; bad rows land in the error report with their line numbers;
 * running the same import again stores nothing twice.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '@cdp/db';
import { cleanUpRun, freePort, NATS_URL, REPO_ROOT, ServiceProcess, testPrefix, waitFor } from '@cdp/testing';

function runImport(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/collection/dist/cli/import.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('file import CLI', () => {
  const prefix = testPrefix('import');
  const dir = mkdtempSync(join(tmpdir(), 'cdp-import-'));
  let database: { url: string; drop(): Promise<void> };
  let pg: Client;
  let collection: ServiceProcess;
  let writeKey: string;

  beforeAll(async () => {
    database = await createTestDatabase(`cdp_e2e_${prefix}`);
    pg = new Client({ connectionString: database.url });
    await pg.connect();
    const boot = spawn(
      process.execPath,
      [join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'), '--workspace', 'import', '--json'],
      { env: { ...process.env, DATABASE_URL: database.url } },
    );
    let out = '';
    boot.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => boot.on('exit', r));
    writeKey = JSON.parse(out).writeKey;
    collection = new ServiceProcess('collection', await freePort(), {
      DATABASE_URL: database.url,
      NATS_URL,
      NATS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    });
    collection.start();
    await collection.ready();
  });

  afterAll(async () => {
    const code = await collection?.stop();
    await pg?.end();
    await cleanUpRun(prefix);
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  const stored = async (like: string) =>
    Number(
      (
        await pg.query<{ n: string }>('SELECT count(*)::text AS n FROM events WHERE message_id LIKE $1', [
          like,
        ])
      ).rows[0]!.n,
    );

  it('imports NDJSON, reports bad rows by line, and is safe to run twice', async () => {
    const file = join(dir, 'events.ndjson');
    const lines: string[] = [];
    for (let i = 1; i <= 3000; i++)
      lines.push(
        JSON.stringify({
          type: 'track',
          userId: `u-${i % 300}`,
          event: 'Branch Visited',
          properties: { branch: `B${i % 17}` },
          timestamp: '2026-10-01T10:00:00Z',
        }),
      );
    lines[99] = '{"type": "track", "userId": '; // line 100: not JSON
    lines[199] = JSON.stringify({ type: 'track', userId: 'u-1' }); // line 200: no event name
    lines[299] = JSON.stringify({ type: 'track', userId: 'u-1', event: 'X', timestamp: 'yesterday' }); // line 300: bad timestamp
    writeFileSync(file, `${lines.join('\n')}\n`);

    const first = await runImport([
      '--file',
      file,
      '--url',
      collection.url,
      '--write-key',
      writeKey,
      '--batch-size',
      '250',
    ]);
    expect(first.code).toBe(2);
    const summary = JSON.parse(first.stdout.trim());
    expect(summary).toMatchObject({ rowsRead: 3000, rowsSent: 2999, rowsRejected: 3 });
    expect(summary.peakRssBytes).toBeLessThan(300 * 2 ** 20);
    const report = readFileSync(`${file}.errors.ndjson`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(report.map((r) => r.line).sort((a, b) => a - b)).toEqual([100, 200, 300]);
    expect(report.find((r) => r.line === 200).issues[0].path).toContain('event');
    await waitFor('2997 events stored', async () => (await stored('imp-%')) === 2997, 120_000, 250);

    const again = await runImport(['--file', file, '--url', collection.url, '--write-key', writeKey]);
    expect(again.code).toBe(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stored('imp-%')).toBe(2997);
  });

  it('imports CSV as identify calls with traits', async () => {
    const file = join(dir, 'customers.csv');
    writeFileSync(
      file,
      'userId,email,traits.segment,age\nc-1,one@example.com,gold,41\nc-2,two@example.com,silver\nc-3,three@example.com,bronze,29\n',
    );
    const result = await runImport([
      '--file',
      file,
      '--type',
      'identify',
      '--url',
      collection.url,
      '--write-key',
      writeKey,
    ]);
    expect(result.code).toBe(2); // row 3 has a missing column
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ rowsRead: 3, rowsRejected: 1 });
    await waitFor('customers from CSV', async () => {
      const rows = await pg.query<{ traits: Record<string, unknown> }>(
        "SELECT c.traits FROM customers c JOIN identities i ON i.customer_id = c.id WHERE i.type = 'user_id' AND i.value IN ('c-1', 'c-3') ORDER BY i.value",
      );
      return rows.rows.length === 2 ? rows.rows : undefined;
    }).then((rows) =>
      expect(rows[0]!.traits).toMatchObject({ email: 'one@example.com', segment: 'gold', age: 41 }),
    );
  });
});
