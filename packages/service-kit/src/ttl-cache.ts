/** A small time-bounded memo for hot look-ups (keys, sources) that may be briefly stale (and stale while their source is down). */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /**
   * The cached value, or a fresh load. When the load fails (e.g. Postgres is unreachable) an
   * expired value is served instead, so a short outage of the source does not fail callers that
   * only needed a recent answer; with nothing cached the error propagates.
   */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    let value: V;
    try {
      value = await load();
    } catch (error) {
      if (hit) return hit.value;
      throw error;
    }
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
    return value;
  }

  /** Forgets a key after this process changed what it caches. */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
