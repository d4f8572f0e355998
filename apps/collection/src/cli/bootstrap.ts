import { parseArgs } from 'node:util';
import { createPrismaClient } from '@cdp/db';
import { BootstrapError, bootstrapWorkspace } from '../workspaces/bootstrap-workspace';

const USAGE = `Usage: pnpm cdp:bootstrap [--workspace <slug>] [--name <display name>] [--source <source name>] [--json]
Creates the workspace if it does not exist, a source with a new write key, and a management API key.
Uses DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/cdp).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workspace: { type: 'string', default: 'demo' },
      name: { type: 'string' },
      source: { type: 'string', default: 'default' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(values.workspace))
    throw new Error('--workspace must be a slug: lowercase letters, digits and dashes');
  const db = createPrismaClient();
  try {
    const result = await bootstrapWorkspace(
      db,
      values.workspace,
      values.name ?? values.workspace,
      values.source,
    );
    if (values.json) return void console.log(JSON.stringify(result));
    console.log(`workspace  ${result.workspaceSlug} (${result.workspaceId})
source     ${values.source} (${result.sourceId})
write key  ${result.writeKey}   <- HTTP Basic user name for /v1/track, /v1/identify
api key    ${result.apiKey}   <- "Authorization: Bearer" for the management REST APIs
Keys are shown once; only their hashes are stored.`);
  } finally {
    await db.$disconnect();
  }
}

main().catch((e: unknown) => {
  console.error(
    e instanceof BootstrapError
      ? e.message
      : `bootstrap failed: ${e instanceof Error ? e.message : String(e)}`,
  );
  process.exit(1);
});
