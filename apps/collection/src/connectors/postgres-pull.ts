import { Client } from 'pg';
import type { PostgresConnectorConfig } from '@cdp/contracts';

export interface PullCursor {
  cursor: string;
  id: string;
}

export interface PulledRows {
  rows: Array<{ row: Record<string, unknown>; key: PullCursor }>;
}

const quote = (identifier: string) => `"${identifier}"`;

/** JSON-friendly row values: timestamps as ISO strings, everything else as pg decoded it. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
  );
}

/**
 * One page of rows after the cursor, in (cursor, id) order so rows sharing a cursor value are
 * neither skipped nor read twice. Identifiers are validated by the config schema and quoted.
 */
export async function pullPage(
  url: string,
  config: PostgresConnectorConfig,
  after: PullCursor | undefined,
): Promise<PulledRows> {
  const client = new Client({ connectionString: url, statement_timeout: 30_000 });
  await client.connect();
  try {
    const table = config.schema ? `${quote(config.schema)}.${quote(config.table)}` : quote(config.table);
    const [cursor, id] = [quote(config.cursorColumn), quote(config.idColumn)];
    const limit = config.batchSize ?? 1000;
    const result = after
      ? await client.query(
          `SELECT *, ${cursor}::text AS "__cursor", ${id}::text AS "__id" FROM ${table} WHERE (${cursor}, ${id}) > ($1, $2) ORDER BY ${cursor}, ${id} LIMIT ${limit}`,
          [after.cursor, after.id],
        )
      : await client.query(
          `SELECT *, ${cursor}::text AS "__cursor", ${id}::text AS "__id" FROM ${table} ORDER BY ${cursor}, ${id} LIMIT ${limit}`,
        );
    return {
      rows: (result.rows as Array<Record<string, unknown>>).map(({ __cursor, __id, ...row }) => ({
        row: plain(row),
        key: { cursor: String(__cursor), id: String(__id) },
      })),
    };
  } finally {
    await client.end();
  }
}
