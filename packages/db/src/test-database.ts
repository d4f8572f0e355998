// Database lifecycle helpers: throw-away databases for tests, reset for development, and
// `prisma migrate deploy` run programmatically. Migrations are applied by the Prisma CLI itself
// (with prisma.config.ts and its offline workarounds), so tests exercise the real migration path.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { databaseName, databaseUrl, redactUrl, withDatabase } from './config';

/** packages/db: the same from src/ (jest, tsx) and from dist/ (built code). */
export const PACKAGE_DIR = path.resolve(__dirname, '..');

/** Databases these helpers never drop. */
const SYSTEM_DATABASES = new Set(['postgres', 'template0', 'template1']);
/** The shared development database: reset only with force, never used as a test database. */
const DEFAULT_DATABASE_NAME = 'cdp';
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

export interface TestDatabase {
  /** Connection URL of the new, migrated database. */
  url: string;
  /** Drops the database (terminating open connections). */
  drop(): Promise<void>;
}

export interface ResetDatabaseOptions {
  /** Allow resetting the shared `cdp` database. */
  force?: boolean;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function assertDroppable(name: string): void {
  if (!NAME_PATTERN.test(name))
    throw new Error(`Invalid database name "${name}" (letters, digits, _ and -; max 63)`);
  if (SYSTEM_DATABASES.has(name)) throw new Error(`Refusing to drop the system database "${name}"`);
}

async function withAdmin<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  // Maintenance connection to the `postgres` database of the same server.
  const client = new Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops the database `url` points at, if it exists (open connections are terminated). */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  assertDroppable(name);
  await withAdmin(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

/** Drops (if present) and creates the database `url` points at; the new database is empty. */
export async function recreateDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  assertDroppable(name);
  await withAdmin(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
}

function prismaCliPath(): string {
  // Resolve the CLI the package depends on; node_modules/prisma is a pnpm symlink.
  const local = path.join(PACKAGE_DIR, 'node_modules', 'prisma', 'build', 'index.js');
  if (existsSync(local)) return local;
  return require.resolve('prisma/build/index.js', { paths: [PACKAGE_DIR] });
}

/**
 * Applies all pending migrations of packages/db/prisma/migrations to the database at `url` by
 * running `prisma migrate deploy` (node + the CLI entry directly: no pnpm/npx start-up cost; ~2 s).
 */
export function migrateDatabase(url: string): Promise<void> {
  const cli = prismaCliPath();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, 'migrate', 'deploy'],
      {
        cwd: PACKAGE_DIR, // prisma.config.ts and prisma/ are resolved from here
        env: {
          ...process.env,
          DATABASE_URL: url,
          CHECKPOINT_DISABLE: '1', // no update check (no network here)
          PRISMA_HIDE_UPDATE_MESSAGE: '1',
        },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `prisma migrate deploy failed for ${redactUrl(url)}: ${error.message}\n${stdout}\n${stderr}`,
            ),
          );
        } else {
          resolve();
        }
      },
    );
  });
}

/**
 * Creates a fresh database `name` on the server of DATABASE_URL (else the default URL), dropping
 * any previous one of that name, and applies all migrations. Use a unique name per test file,
 * e.g. `cdp_test_<suite>_<random>`, and call `drop()` in afterAll.
 */
export async function createTestDatabase(name: string): Promise<TestDatabase> {
  assertDroppable(name);
  if (name === DEFAULT_DATABASE_NAME)
    throw new Error(`Refusing to use the shared "${name}" database as a test database`);
  const url = withDatabase(databaseUrl(), name);
  await recreateDatabase(url);
  try {
    await migrateDatabase(url);
  } catch (e) {
    await dropDatabase(url).catch(() => undefined);
    throw e;
  }
  return { url, drop: () => dropDatabase(url) };
}

/**
 * Drops, recreates and migrates the database `url` points at. Refuses the shared `cdp` database
 * unless `force` is set, and never touches system databases.
 */
export async function resetDatabase(url: string, opts: ResetDatabaseOptions = {}): Promise<void> {
  const name = databaseName(url);
  if (name === DEFAULT_DATABASE_NAME && !opts.force) {
    throw new Error(`Refusing to reset the shared "${name}" database without --force`);
  }
  await recreateDatabase(url);
  await migrateDatabase(url);
}
