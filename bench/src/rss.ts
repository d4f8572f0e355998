import { readFileSync } from 'node:fs';

export interface RssSample {
  /** Highest VmRSS seen by the sampler, bytes. */
  maxRss: number;
  /** The kernel's own high-water mark (VmHWM) at the last sample, bytes: catches peaks between samples. */
  hwm: number;
  samples: number;
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined;
  } catch {
    return undefined; // the process has ended
  }
}

/** Samples a process's resident memory from /proc/<pid>/status every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs = 250): { stop: () => RssSample } {
  const sample: RssSample = { maxRss: 0, hwm: 0, samples: 0 };
  const take = () => {
    const rss = statusKb(pid, 'VmRSS');
    const hwm = statusKb(pid, 'VmHWM');
    if (rss === undefined) return;
    sample.samples++;
    sample.maxRss = Math.max(sample.maxRss, rss);
    if (hwm !== undefined) sample.hwm = Math.max(sample.hwm, hwm);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop: () => {
      take();
      clearInterval(timer);
      return sample;
    },
  };
}
