import { createHash } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { BatchUploader, type RowIssue, type UploadBatch } from './batch-uploader';
import { readRows, type RowDefaults, type RowFormat } from './file-rows';

export interface ImportOptions extends RowDefaults {
  file: string;
  format: RowFormat;
  url: string;
  writeKey: string;
  errorsFile: string;
  batchSize: number;
  concurrency: number;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  bytesTotal: number;
  rowsRead: number;
  rowsSent: number;
  rowsRejected: number;
  seconds: number;
  peakRssBytes: number;
}

/** Segment's batch limit is 500 KB; stay below it with room for the envelope. */
const MAX_BATCH_BYTES = 450 * 1024;

/**
 * Imports a CSV or NDJSON file of any size through the collection's tracking API in bounded
 * memory: rows stream in, at most `concurrency` batches are in flight, rejected rows go to an
 * error report (one JSON line per row: line number and issues). Rows without a messageId get one
 * derived from the file and line, so running the same import again stores nothing twice.
 */
export async function importFile(options: ImportOptions): Promise<ImportProgress> {
  const stat = statSync(options.file);
  const fileKey = createHash('sha256')
    .update(`${basename(options.file)}:${stat.size}:${stat.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
  const uploader = new BatchUploader(options.url, options.writeKey);
  const errors = createWriteStream(options.errorsFile);
  const progress: ImportProgress = {
    bytesTotal: stat.size,
    rowsRead: 0,
    rowsSent: 0,
    rowsRejected: 0,
    seconds: 0,
    peakRssBytes: 0,
  };
  const started = Date.now();
  const report = (issues: RowIssue[]) => {
    for (const issue of issues) errors.write(`${JSON.stringify(issue)}\n`);
    progress.rowsRejected += issues.length;
  };
  const inFlight = new Set<Promise<void>>();
  const submit = async (batch: UploadBatch) => {
    const task = uploader.send(batch).then((issues) => {
      report(issues);
      progress.rowsSent += batch.calls.length;
    });
    const tracked = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  };
  const ticker = setInterval(() => tick(), 1000);
  const tick = () => {
    progress.seconds = (Date.now() - started) / 1000;
    progress.peakRssBytes = Math.max(progress.peakRssBytes, process.memoryUsage.rss());
    options.onProgress?.(progress);
  };

  try {
    let batch: UploadBatch = { lines: [], calls: [] };
    let batchBytes = 0;
    for await (const row of readRows(options.file, options.format, options)) {
      progress.rowsRead++;
      if ('error' in row) {
        report([{ line: row.line, issues: [{ path: '/', reason: row.error }] }]);
        continue;
      }
      row.call.messageId ??= `imp-${fileKey}-${row.line}`;
      const size = Buffer.byteLength(JSON.stringify(row.call));
      if (
        batch.calls.length &&
        (batch.calls.length >= options.batchSize || batchBytes + size > MAX_BATCH_BYTES)
      ) {
        await submit(batch);
        batch = { lines: [], calls: [] };
        batchBytes = 0;
      }
      batch.lines.push(row.line);
      batch.calls.push(row.call);
      batchBytes += size;
    }
    if (batch.calls.length) await submit(batch);
    await Promise.all(inFlight);
  } finally {
    clearInterval(ticker);
    tick();
    await new Promise<void>((resolve) => errors.end(() => resolve()));
  }
  return progress;
}
