/**
 * Writes the AsyncAPI document and the human event catalogue:
 *
 *   node dist/asyncapi/generate.js <asyncapi.json> [events.md]
 *
 * The markdown goes next to the JSON as `events.md` unless a second path is given.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildAsyncApi } from './build';
import { renderEventsMarkdown } from './markdown';

/** The exact text written to the JSON file: 2-space indent and a trailing newline. */
export function asyncApiJson(document: object = buildAsyncApi()): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function generate(jsonPath: string, markdownPath = join(dirname(jsonPath), 'events.md')): string[] {
  const document = buildAsyncApi();
  const outputs: [string, string][] = [
    [resolve(jsonPath), asyncApiJson(document)],
    [resolve(markdownPath), renderEventsMarkdown(document)],
  ];
  for (const [path, text] of outputs) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return outputs.map(([path]) => path);
}

if (require.main === module) {
  const [jsonPath, markdownPath] = process.argv.slice(2);
  if (!jsonPath) {
    console.error('usage: node dist/asyncapi/generate.js <asyncapi.json> [events.md]');
    process.exit(2);
  }
  for (const path of generate(jsonPath, markdownPath)) console.log(`wrote ${path}`);
}
