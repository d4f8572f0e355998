export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The target, as text (e.g. ">= 20000"). */
  target?: string;
  /** The infrastructure limit under this figure, measured the strong way in the same run. */
  limit?: { name: string; value: number; unit: string };
  /**
   * Events per unit of `value` when the units differ from the limit's (one /v1/track request is
   * one event), so the ratio still compares events/s with events/s.
   */
  eventsEach?: number;
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
  /** Requests per second of the fixed-rate /v1/track phase. */
  trackRate: number;
  /** Events per /v1/batch request. */
  batchSize: number;
  /** Longest wait, counted from the start of a phase's load, for its accepted events to be stored. */
  drainSeconds: number;
  /** Known people, stored before each ingest phase; the other events come from new people. */
  knownPeople: number;
  /** Size of the generated import file. */
  importMb: number;
}
