import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';

export type RowFormat = 'csv' | 'ndjson';

export interface RowDefaults {
  /** Call type for CSV rows without a `type` column. */
  type: 'track' | 'identify';
  /** Event name for CSV track rows without an `event` column. */
  event?: string;
}

export type FileRow = { line: number; call: Record<string, unknown> } | { line: number; error: string };

const TOP_LEVEL: Record<string, string> = {
  messageid: 'messageId',
  message_id: 'messageId',
  type: 'type',
  event: 'event',
  userid: 'userId',
  user_id: 'userId',
  anonymousid: 'anonymousId',
  anonymous_id: 'anonymousId',
  timestamp: 'timestamp',
};

function cast(value: string): unknown {
  if (/^-?(0|[1-9]\d{0,14})(\.\d+)?$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

/** A CSV record as a Segment call: known columns at the top, `traits.x`/`properties.x`/`context.x` nested, the rest as properties (track) or traits (identify). */
export function callFromCsvRecord(
  record: Record<string, string>,
  defaults: RowDefaults,
): Record<string, unknown> {
  const call: Record<string, unknown> = {};
  const nested: Record<string, Record<string, unknown>> = { traits: {}, properties: {}, context: {} };
  for (const [column, raw] of Object.entries(record)) {
    if (raw === '') continue;
    const top = TOP_LEVEL[column.toLowerCase()];
    if (top) {
      call[top] = top === 'userId' || top === 'anonymousId' || top === 'messageId' ? raw : cast(raw);
      continue;
    }
    const dot = column.indexOf('.');
    const group = dot > 0 ? column.slice(0, dot) : undefined;
    if (group && group in nested) nested[group]![column.slice(dot + 1)] = cast(raw);
    else nested[(call.type ?? defaults.type) === 'identify' ? 'traits' : 'properties']![column] = cast(raw);
  }
  call.type ??= defaults.type;
  if (call.type === 'track' && call.event === undefined && defaults.event) call.event = defaults.event;
  for (const [group, values] of Object.entries(nested)) if (Object.keys(values).length) call[group] = values;
  return call;
}

/**
 * Streams a file as Segment calls, one per row, never holding more than the parser's buffer:
 * NDJSON lines are calls as they are; CSV rows are mapped by column name.
 */
export async function* readRows(
  path: string,
  format: RowFormat,
  defaults: RowDefaults,
): AsyncGenerator<FileRow> {
  const input = createReadStream(path);
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (!text.trim()) continue;
      try {
        const call = JSON.parse(text) as unknown;
        if (call === null || typeof call !== 'object' || Array.isArray(call))
          yield { line, error: 'not a JSON object' };
        else yield { line, call: call as Record<string, unknown> };
      } catch (e) {
        yield { line, error: `invalid JSON: ${(e as Error).message}` };
      }
    }
    return;
  }
  const parser = input.pipe(
    parse({ columns: true, bom: true, skip_empty_lines: true, relax_column_count: true, info: true }),
  );
  // csv-parse counts rows of the wrong length cumulatively: a rise marks the current row.
  let invalidSoFar = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number; invalid_field_length: number };
    }>) {
      if (info.invalid_field_length > invalidSoFar) {
        invalidSoFar = info.invalid_field_length;
        yield { line: info.lines, error: 'CSV: the row has a different number of columns than the header' };
      } else yield { line: info.lines, call: callFromCsvRecord(record, defaults) };
    }
  } catch (e) {
    // csv-parse stops at a malformed row (unbalanced quotes, wrong column count): report where.
    const { lines } = e as { lines?: number };
    yield { line: lines ?? -1, error: `CSV: ${(e as Error).message}; the rest of the file was not read` };
  }
}
