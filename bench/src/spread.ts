import autocannon from 'autocannon';

/** What the max-throughput phases report: autocannon's figures, summed over the replicas. */
export interface SpreadResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Seconds of the longest run. */
  duration: number;
  /** Requests per second, summed. */
  requests: { average: number; total: number };
  /**
   * Each percentile is the highest of the replicas' (an upper bound of the merged percentile:
   * with at most 1% of each replica's answers above x, at most 1% of all of them are).
   */
  latency: { p50: number; p90: number; p99: number; p99_9: number; max: number };
  perReplica: autocannon.Result[];
}

/**
 * Closed-loop autocannon load spread over the API replicas like an L4 load balancer would spread
 * connections: `connections` in all, split evenly, one autocannon instance per replica, run at once.
 */
export async function spreadAutocannon(
  urls: string[],
  options: Omit<autocannon.Options, 'url'> & { connections: number },
): Promise<SpreadResult> {
  const results = await Promise.all(
    urls.map((url, i) =>
      autocannon({
        ...options,
        url,
        connections:
          Math.floor(options.connections / urls.length) + (i < options.connections % urls.length ? 1 : 0),
      }),
    ),
  );
  const sum = (pick: (r: autocannon.Result) => number) => results.reduce((s, r) => s + pick(r), 0);
  const highest = (pick: (r: autocannon.Result) => number) => Math.max(...results.map(pick));
  return {
    '2xx': sum((r) => r['2xx']),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    duration: highest((r) => r.duration),
    requests: { average: sum((r) => r.requests.average), total: sum((r) => r.requests.total) },
    latency: {
      p50: highest((r) => r.latency.p50),
      p90: highest((r) => r.latency.p90),
      p99: highest((r) => r.latency.p99),
      p99_9: highest((r) => r.latency.p99_9),
      max: highest((r) => r.latency.max),
    },
    perReplica: results,
  };
}
