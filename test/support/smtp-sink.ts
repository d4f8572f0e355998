// Moved to @cdp/testing (shared with the benchmarks); kept so test imports stay short.
export * from '@cdp/testing';
