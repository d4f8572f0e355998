import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface EventRow {
  workspaceId: string;
  messageId: string;
  name: string;
  properties: string;
  context: string;
  occurredAt: string;
  receivedAt: string;
}

/** A value as a field of COPY's text format. */
export const copyEscape = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/**
 * The strong way to write rows to Postgres: COPY into the real `events` table (same indexes) of
 * the benchmark's database, rows made as they are sent. Returns rows per second.
 */
export async function rawPostgresCopy(databaseUrl: string, count: number, row: (i: number) => EventRow) {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  const started = process.hrtime.bigint();
  const lines = Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) {
        const r = row(i);
        yield `${[r.workspaceId, r.messageId, 'track', r.name, 'web', copyEscape(r.properties), copyEscape(r.context), r.occurredAt, r.receivedAt].join('\t')}\n`;
      }
    })(),
  );
  await pipeline(
    lines,
    pg.query(
      copyFrom(
        'COPY events (workspace_id, message_id, type, name, channel, properties, context, occurred_at, received_at) FROM STDIN',
      ),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pg.query('DELETE FROM events WHERE message_id LIKE $1', ['copy-%']);
  await pg.end();
  return { rows: count, seconds, perSecond: count / seconds };
}
