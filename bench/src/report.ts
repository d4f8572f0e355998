import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@cdp/testing';
import type { Machine } from './machine';
import type { BenchOptions, SuiteResult } from './types';

const fmt = (n: number) =>
  Math.abs(n) >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);

/** docs/benchmarks.md: what ran where, every figure beside its raw limit, and the raw JSON. */
export function writeReport(machine: Machine, results: SuiteResult[], opts: BenchOptions): string {
  const lines = [
    '# Benchmarks',
    '',
    'Written by `pnpm bench` (bench/src/run.ts); do not edit by hand. Every figure is measured on this',
    'machine with the real services, beside the limit of the infrastructure under it measured in the same run',
    '(JetStream async publish with a window of outstanding acks, Postgres COPY of the same rows, ...).',
    '',
    `- commit \`${machine.commit}\`${machine.dirty ? ' (with uncommitted changes)' : ''}, ${machine.date}`,
    `- ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
    `- PostgreSQL ${machine.postgres} (synchronous_commit=${machine.postgresSynchronousCommit}), NATS ${machine.nats}`,
    '- load generators run on the same cores as the services, so every figure includes their cost',
    `- options: ${opts.duration} s per phase, ${opts.connections} connections, fixed rate ${opts.trackRate} req/s, ${opts.batchSize} events per batch, drain bound ${opts.drainSeconds} s, ${opts.knownPeople} known people, import file ${opts.importMb} MB`,
    '',
  ];
  for (const r of results) {
    lines.push(
      `## ${r.suite}`,
      '',
      r.description,
      '',
      '| figure | value | target | raw limit (same run) | ratio |',
      '|---|---|---|---|---|',
    );
    for (const f of r.figures) {
      const limit = f.limit ? `${f.limit.name}: ${fmt(f.limit.value)} ${f.limit.unit}` : '';
      const comparable =
        f.limit && (f.limit.unit === f.unit ? f.value : f.eventsEach && f.value * f.eventsEach);
      const share = f.limit && f.limit.value > 0 && comparable ? comparable / f.limit.value : undefined;
      const ratio = share === undefined ? '' : `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
      lines.push(`| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.target ?? ''} | ${limit} | ${ratio} |`);
    }
    if (r.notes.length) lines.push('', ...r.notes.map((n) => `- ${n}`));
    lines.push('');
  }
  lines.push(
    '## Raw results',
    '',
    '```json',
    JSON.stringify({ machine, options: opts, results }, null, 2),
    '```',
    '',
  );
  const path = join(REPO_ROOT, 'docs', 'benchmarks.md');
  writeFileSync(path, lines.join('\n'));
  return path;
}
