import { parseArgs } from 'node:util';
import { describeMachine } from './machine';
import { writeReport } from './report';
import { analysisSuite } from './suites/analysis';
import { deliverySuite } from './suites/delivery';
import { importSuite } from './suites/import';
import { ingestSuite } from './suites/ingest';
import type { BenchOptions, SuiteResult } from './types';

const SUITES: Record<string, (opts: BenchOptions) => Promise<SuiteResult>> = {
  ingest: ingestSuite,
  import: importSuite,
  analysis: analysisSuite,
  delivery: deliverySuite,
};

const USAGE = `Usage: pnpm bench [options]   (or: node bench/dist/run.js [options] after pnpm turbo run build)
  --only <suite>       run only this suite (ingest, import, analysis, delivery); repeatable
  --duration <s>       seconds of load per ingest phase (default 60)
  --connections <n>    HTTP connections (default 50)
  --track-rate <n>     requests/s of the fixed-rate /v1/track phase (default 4000)
  --batch-size <n>     events per /v1/batch request (default 100)
  --known <n>          known people stored before each ingest phase (default 10000)
  --drain <s>          longest wait for a phase's accepted events to be stored, from the start of its load (default 180)
  --import-mb <n>      size of the generated NDJSON import file in MB (default 1100)`;

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number\n${USAGE}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      duration: { type: 'string', default: '60' },
      connections: { type: 'string', default: '50' },
      'track-rate': { type: 'string', default: '4000' },
      'batch-size': { type: 'string', default: '100' },
      drain: { type: 'string', default: '180' },
      known: { type: 'string', default: '10000' },
      'import-mb': { type: 'string', default: '1100' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  const unknown = values.only?.filter((s) => !(s in SUITES));
  if (unknown?.length) throw new Error(`unknown suite ${unknown.join(', ')}\n${USAGE}`);
  const opts: BenchOptions = {
    duration: positive('duration', values.duration),
    connections: positive('connections', values.connections),
    trackRate: positive('track-rate', values['track-rate']),
    batchSize: positive('batch-size', values['batch-size']),
    drainSeconds: positive('drain', values.drain),
    knownPeople: positive('known', values.known),
    importMb: positive('import-mb', values['import-mb']),
  };
  const machine = await describeMachine();
  const results: SuiteResult[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (values.only && !values.only.includes(name)) continue;
    console.log(`==> ${name}`);
    const result = await suite(opts);
    for (const f of result.figures)
      console.log(
        `    ${f.name}: ${f.value.toFixed(1)} ${f.unit}${f.limit ? ` (raw ${f.limit.value.toFixed(0)} ${f.limit.unit})` : ''}`,
      );
    results.push(result);
  }
  console.log(`wrote ${writeReport(machine, results, opts)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
