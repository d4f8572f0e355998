import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS_URL, REPO_ROOT } from '@cdp/testing';
import { CollectionStack } from '../collection';
import { sampleRss, type RssSample } from '../rss';
import type { BenchOptions, SuiteResult } from '../types';
import { EventWriter, NEW_PEOPLE_SHARE } from '../workload';

const MB = 2 ** 20;
const num = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;

/**
 * Rows the import must refuse, one kind each, spread through the file: two the CLI catches while
 * reading, the rest refused by the collection per row (the CLI maps batch indexes back to lines).
 */
const BAD_ROWS = [
  '{"type":"track","messageId":"bad-truncated","userId":"user-1","event":"Product Vi',
  '["not", "an", "object"]',
  '{"type":"track","messageId":"bad-no-event","userId":"user-1"}',
  '{"type":"launch","messageId":"bad-type","userId":"user-1","event":"Product Viewed"}',
  '{"type":"track","messageId":"bad-no-person","event":"Product Viewed"}',
  '{"type":"track","messageId":"bad-timestamp","userId":"user-1","event":"Product Viewed","timestamp":"yesterday"}',
];

/** Writes an NDJSON file of about `bytes` through a stream (never held in memory); returns its rows. */
async function writeNdjson(
  path: string,
  bytes: number,
  known: number,
): Promise<{ rows: number; bytes: number }> {
  const writer = new EventWriter(known);
  const out = createWriteStream(path);
  const eventBytes = writer.eventBytes() + 1;
  const rows = Math.ceil(bytes / eventBytes);
  const badEvery = Math.floor(rows / (BAD_ROWS.length + 1));
  let chunk: string[] = [];
  for (let i = 1; i <= rows; i++) {
    const bad = i % badEvery === 0 ? BAD_ROWS[i / badEvery - 1] : undefined;
    chunk.push(bad ?? writer.event());
    if (chunk.length === 1000 || i === rows) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end();
  await once(out, 'finish');
  return { rows, bytes: (await stat(path)).size };
}

/** The error report's row count and its first entries (line number and reasons). */
async function readErrorReport(path: string): Promise<{ rows: number; first: string[] }> {
  let rows = 0;
  const first: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (!line.trim()) continue;
    rows++;
    if (first.length < 10) first.push(line);
  }
  return { rows, first };
}

function describeIssue(line: string): string {
  const row = JSON.parse(line) as { line: number; issues: Array<{ path: string; reason: string }> };
  return `line ${num(row.line)}: ${row.issues.map((i) => `${i.path} ${i.reason}`).join('; ')}`;
}

async function streamsOf(prefix: string): Promise<{ names: string[]; bytes: number }> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    let bytes = 0;
    for await (const s of jsm.streams.list())
      if (s.config.name.startsWith(`${prefix}_`)) {
        names.push(s.config.name);
        bytes += s.state.bytes;
      }
    return { names, bytes };
  } finally {
    await nc.close();
  }
}

interface ImportOutcome {
  exitCode: number | null;
  seconds: number;
  summary: { rowsRead: number; rowsSent: number; rowsRejected: number; peakRssBytes: number } | undefined;
  progressLines: number;
  lastProgress: string;
  rss: RssSample;
  stderrTail: string;
}

/** Runs the import CLI as its own process and samples its RSS from /proc every 250 ms. */
async function runImport(args: string[]): Promise<ImportOutcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'apps/collection/dist/cli/import.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rss = sampleRss(child.pid!);
  let stdout = '';
  let stderr = '';
  let progressLines = 0;
  let lastProgress = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
    for (const line of c.toString().split('\n'))
      if (line.includes('rows read')) {
        progressLines++;
        lastProgress = line.trim();
        if (progressLines % 15 === 0) console.log(`      ${lastProgress}`);
      }
  });
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  const sample = rss.stop();
  const last = stdout.trim().split('\n').pop();
  let summary: ImportOutcome['summary'];
  try {
    summary = last ? (JSON.parse(last) as ImportOutcome['summary']) : undefined;
  } catch {
    summary = undefined;
  }
  return {
    exitCode,
    seconds: (Date.now() - started) / 1000,
    summary,
    progressLines,
    lastProgress,
    rss: sample,
    stderrTail: stderr.slice(-1000),
  };
}

/** Streamed NDJSON import of a file of 1 GB or more through the collection, in bounded memory. */
export async function importSuite(opts: BenchOptions): Promise<SuiteResult> {
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'cdp-bench-import-'));
  const file = join(dir, 'events.ndjson');
  const errorsFile = join(dir, 'events.errors.ndjson');
  let stack: CollectionStack | undefined;
  try {
    console.log(`    generating ${opts.importMb} MB of NDJSON in ${dir}`);
    const generated = await writeNdjson(file, opts.importMb * MB, opts.knownPeople);
    stack = await CollectionStack.start('import');
    const collectionRss = sampleRss(stack.apis[0]!.pid!);
    console.log(`    importing ${num(generated.rows)} rows (${mb(generated.bytes)})`);
    const outcome = await runImport([
      '--file',
      file,
      '--url',
      stack.url,
      '--write-key',
      stack.writeKey,
      '--errors',
      errorsFile,
    ]);
    const collection = collectionRss.stop();
    const persistedByEnd = await stack.countEvents();
    const onStream = await streamsOf(stack.prefix);
    await stack.stop();
    const left = await streamsOf(stack.prefix);
    stack = undefined;
    if (!outcome.summary)
      throw new Error(`the import failed (exit ${outcome.exitCode}):\n${outcome.stderrTail}`);
    const errorReport = await readErrorReport(errorsFile);
    const errorLines = errorReport.rows;
    const s = outcome.summary;
    const maxRss = Math.max(outcome.rss.maxRss, outcome.rss.hwm);
    return {
      suite: 'Streamed file import',
      description:
        "The import CLI (apps/collection/dist/cli/import.js) streams a generated NDJSON file through the collection's /v1/batch as its own process; its memory is read from /proc/<pid>/status every 250 ms.",
      durationSeconds: (Date.now() - started) / 1000,
      figures: [
        { name: 'import file size', value: generated.bytes / MB, unit: 'MB', target: '>= 1,024 MB' },
        { name: 'import CLI peak RSS', value: maxRss / MB, unit: 'MB', target: '< 300 MB' },
        { name: 'rows sent', value: s.rowsSent / outcome.seconds, unit: 'rows/s' },
        {
          name: 'rows rejected (in the error report)',
          value: errorLines,
          unit: 'rows',
          target: `${BAD_ROWS.length} planted`,
        },
        { name: 'total import time', value: outcome.seconds, unit: 's' },
        {
          name: 'collection peak RSS during the import',
          value: Math.max(collection.maxRss, collection.hwm) / MB,
          unit: 'MB',
        },
      ],
      notes: [
        `${num(generated.rows)} rows of ~${new EventWriter().eventBytes()} B track calls (${NEW_PEOPLE_SHARE * 100}% from new people, the rest from ${num(opts.knownPeople)} known ids), written to a temp file as a stream; ${BAD_ROWS.length} bad rows planted through the file (truncated JSON, a JSON array, track without event, unknown type, no userId/anonymousId, bad timestamp).`,
        `CLI defaults: batches of up to 200 rows (under 450 KB), 4 in flight. Exit code ${outcome.exitCode} (2 = some rows rejected); read ${num(s.rowsRead)}, sent ${num(s.rowsSent)}, rejected ${num(s.rowsRejected)}; the error report has ${num(errorLines)} lines (one per rejected row, with its line number and reasons): ${errorReport.first.map(describeIssue).join(' | ')}.`,
        `Peak RSS: sampled VmRSS max ${mb(outcome.rss.maxRss)}, kernel high-water mark VmHWM ${mb(outcome.rss.hwm)} (${outcome.rss.samples} samples); the CLI's own report says ${mb(s.peakRssBytes)}. The collection peaked at ${mb(Math.max(collection.maxRss, collection.hwm))}.`,
        `Progress display: ${num(outcome.progressLines)} progress lines on stderr (one a second when not a TTY; one rewritten line on a TTY), the last: \`${outcome.lastProgress}\`.`,
        `The import measures acceptance (rows/s answered 2xx by /v1/batch, so durable on JetStream); it does not wait for all rows to be stored: the persisting consumer ran alongside and had stored ${num(persistedByEnd)} events when the import ended. The streams held ${mb(onStream.bytes)}; they, the database and the temp files were deleted afterwards (${left.names.length} streams left).`,
        'The CLI, the collection, its consumer, Postgres and NATS share the 2 cores.',
      ],
      raw: {
        generated,
        errorReport: errorReport.first,
        outcome,
        collectionRss: collection,
        persistedByEnd,
        streamBytes: onStream.bytes,
        streamsLeft: left.names,
      },
    };
  } finally {
    if (stack) await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
