import { parseArgs } from 'node:util';
import { describeMachine } from './machine';
import { writeReport } from './report';
import { deliverySuite } from './suites/delivery';
import { ingestSuite } from './suites/ingest';
import type { BenchOptions, SuiteResult } from './types';

const SUITES: Record<string, (opts: BenchOptions) => Promise<SuiteResult>> = {
  ingest: ingestSuite,
  delivery: deliverySuite,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      duration: { type: 'string', default: '60' },
      connections: { type: 'string', default: '50' },
    },
  });
  const opts: BenchOptions = { duration: Number(values.duration), connections: Number(values.connections) };
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
  console.log(`wrote ${writeReport(machine, results)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
