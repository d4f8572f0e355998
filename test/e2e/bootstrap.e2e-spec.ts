import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createPrismaClient, createTestDatabase } from '@cdp/db';
import { testPrefix, REPO_ROOT } from '@cdp/testing';

describe('bootstrap command', () => {
  let database: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    database = await createTestDatabase(`cdp_e2e_${testPrefix('boot')}`);
  });
  afterAll(() => database.drop());

  const bootstrap = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'apps/collection/dist/cli/bootstrap.js'), ...args], {
      env: { ...process.env, DATABASE_URL: database.url },
      encoding: 'utf8',
    });

  it('creates a workspace, a source and keys that are stored only as hashes', async () => {
    const first = bootstrap('--workspace', 'acme', '--json');
    expect(first.status).toBe(0);
    const keys = JSON.parse(first.stdout);
    expect(keys).toMatchObject({
      workspaceSlug: 'acme',
      writeKey: expect.stringMatching(/^wk_/),
      apiKey: expect.stringMatching(/^cdp_/),
    });
    const second = bootstrap('--workspace', 'acme', '--source', 'branch-crm', '--json');
    expect(JSON.parse(second.stdout).workspaceId).toBe(keys.workspaceId);

    const db = createPrismaClient(database.url);
    try {
      const sources = await db.source.findMany({ where: { workspaceId: keys.workspaceId } });
      expect(sources.map((s) => s.name).sort()).toEqual(['branch-crm', 'default']);
      const stored = JSON.stringify([sources, await db.apiKey.findMany()]);
      expect(stored).not.toContain(keys.writeKey);
      expect(stored).not.toContain(keys.apiKey);
    } finally {
      await db.$disconnect();
    }
  });

  it('refuses a duplicate source name with a clear message', () => {
    const again = bootstrap('--workspace', 'acme');
    expect(again.status).toBe(1);
    expect(again.stderr.trim()).toBe(
      'workspace "acme" already has a source named "default": choose another with --source <name>',
    );
  });
});
