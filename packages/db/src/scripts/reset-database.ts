// Usage: pnpm --filter @cdp/db reset [database-name | postgresql-url] [--force]
// Drops, recreates and migrates the database named by the argument, else by DATABASE_URL (else
// the default `cdp`). The shared `cdp` database is reset only with --force.
import { databaseUrl, redactUrl, withDatabase } from '../config';
import { resetDatabase } from '../test-database';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const target = args.find((a) => !a.startsWith('--'));
  const url =
    target === undefined
      ? databaseUrl()
      : target.includes('://')
        ? target
        : withDatabase(databaseUrl(), target);
  const started = Date.now();
  await resetDatabase(url, { force });
  console.log(`Reset and migrated ${redactUrl(url)} in ${Date.now() - started} ms`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
