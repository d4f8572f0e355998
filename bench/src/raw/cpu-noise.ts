import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { promisify } from 'node:util';

/**
 * A loop that reads the clock as fast as it can; any gap between two readings is time the process
 * did not run (the kernel or the hypervisor gave its CPU to something else).
 */
const SPINNER = `
const end = Date.now() + Number(process.argv[1]);
let last = process.hrtime.bigint(), lost = 0, over10 = 0, max = 0, gaps = 0;
while (Date.now() < end) {
  const now = process.hrtime.bigint();
  const gap = Number(now - last) / 1e6;
  if (gap >= 0.5) { lost += gap; gaps++; if (gap >= 10) over10 += gap; if (gap > max) max = gap; }
  last = now;
}
console.log(JSON.stringify({ lost, over10, max, gaps }));
`;

export interface CpuNoise {
  seconds: number;
  spinners: number;
  /** Share of each spinner's time spent in gaps of 0.5 ms or more (mean over spinners). */
  lostShare: number;
  /** Share of each spinner's time spent in gaps of 10 ms or more. */
  over10msShare: number;
  /** Longest gap any spinner saw, ms. */
  maxGapMs: number;
  gaps: number;
}

/**
 * What the machine itself takes from a busy process: one spinner per CPU, nothing else of the
 * benchmark running. On a dedicated host the gaps are the kernel's ticks (well under 1 ms); on a
 * VM whose vCPUs the host also schedules, they are the latency floor of any service that keeps
 * the CPUs busy.
 */
export async function measureCpuNoise(seconds: number): Promise<CpuNoise> {
  const spinners = cpus().length;
  const runs = await Promise.all(
    Array.from({ length: spinners }, () =>
      promisify(execFile)(process.execPath, ['-e', SPINNER, String(seconds * 1000)]),
    ),
  );
  const results = runs.map(
    (r) => JSON.parse(r.stdout) as { lost: number; over10: number; max: number; gaps: number },
  );
  const totalMs = seconds * 1000 * spinners;
  return {
    seconds,
    spinners,
    lostShare: results.reduce((s, r) => s + r.lost, 0) / totalMs,
    over10msShare: results.reduce((s, r) => s + r.over10, 0) / totalMs,
    maxGapMs: Math.max(...results.map((r) => r.max)),
    gaps: results.reduce((s, r) => s + r.gaps, 0),
  };
}
