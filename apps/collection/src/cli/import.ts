import { parseArgs } from 'node:util';
import { importFile, type ImportProgress } from '../import/file-import';

const USAGE = `Usage: pnpm cdp:import --file <path> [--format csv|ndjson] [--type track|identify] [--event <name>]
       [--url http://localhost:3001] [--write-key <key> | CDP_WRITE_KEY=<key>] [--errors <path>]
       [--batch-size 200] [--concurrency 4]
Streams the file through the collection's /v1/batch API in bounded memory. NDJSON: one Segment
call per line. CSV: a header row; columns messageId, type, event, userId, anonymousId, timestamp
go to the top, "traits.x" / "properties.x" / "context.x" are nested, other columns become
properties (track) or traits (identify). Rejected rows are written to the errors file with their
line number; rows without a messageId get one from the file and line, so re-running is safe.`;

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

function render(p: ImportProgress): string {
  const rate = p.seconds > 0 ? p.rowsSent / p.seconds : 0;
  return `${p.rowsRead.toLocaleString('en-US')} rows read, ${p.rowsSent.toLocaleString('en-US')} sent (${Math.round(rate).toLocaleString('en-US')}/s), ${p.rowsRejected.toLocaleString('en-US')} rejected of ${mb(p.bytesTotal)} file, ${p.seconds.toFixed(0)} s, RSS ${mb(p.peakRssBytes)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      format: { type: 'string' },
      type: { type: 'string', default: 'track' },
      event: { type: 'string' },
      url: { type: 'string', default: process.env.CDP_COLLECTION_URL ?? 'http://localhost:3001' },
      'write-key': { type: 'string', default: process.env.CDP_WRITE_KEY },
      errors: { type: 'string' },
      'batch-size': { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '4' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.file) return void console.log(USAGE);
  const format = values.format ?? (values.file.endsWith('.csv') ? 'csv' : 'ndjson');
  if (format !== 'csv' && format !== 'ndjson') throw new Error('--format must be csv or ndjson');
  if (values.type !== 'track' && values.type !== 'identify')
    throw new Error('--type must be track or identify');
  if (!values['write-key']) throw new Error('a write key is needed: --write-key or CDP_WRITE_KEY');
  const batchSize = Number(values['batch-size']);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2000)
    throw new Error('--batch-size must be 1..2000');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new Error('--concurrency must be 1..64');
  const tty = process.stderr.isTTY;
  const result = await importFile({
    file: values.file,
    format,
    type: values.type,
    ...(values.event && { event: values.event }),
    url: values.url.replace(/\/$/, ''),
    writeKey: values['write-key'],
    errorsFile: values.errors ?? `${values.file}.errors.ndjson`,
    batchSize,
    concurrency,
    onProgress: (p) => process.stderr.write(tty ? `\r${render(p)}\u001b[K` : `${render(p)}\n`),
  });
  if (tty) process.stderr.write('\n');
  console.log(JSON.stringify({ ...result, errorsFile: values.errors ?? `${values.file}.errors.ndjson` }));
  if (result.rowsRejected > 0) process.exitCode = 2;
}

main().catch((e: unknown) => {
  console.error(`import failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
