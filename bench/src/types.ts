export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The target, as text (e.g. ">= 20000"). */
  target?: string;
  /** The infrastructure limit under this figure, measured the strong way in the same run. */
  limit?: { name: string; value: number; unit: string };
}

export interface SuiteResult {
  suite: string;
  description: string;
  durationSeconds: number;
  figures: Figure[];
  notes: string[];
  raw: Record<string, unknown>;
}

export interface BenchOptions {
  /** Seconds of load per measured phase. */
  duration: number;
  connections: number;
}
