/**
 * Share of the time to live left when a look-up starts reloading the value in the background:
 * under steady traffic a value is replaced before it expires, so no caller waits for a reload.
 */
const REFRESH_AHEAD_SHARE = 0.2;

/**
 * A small time-bounded memo for hot look-ups (keys, sources, rules) that may be briefly stale
 * (and stale while their source is down). A value is never served older than its time to live
 * while its source answers; one load per key runs at a time, however many callers ask meanwhile.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly loading = new Map<string, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    /** Milliseconds since the epoch; tests pass a clock of their own. */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The cached value, or a fresh load. When the load fails (e.g. Postgres is unreachable) an
   * expired value is served instead, so a short outage of the source does not fail callers that
   * only needed a recent answer; with nothing cached the error propagates.
   */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    const now = this.now();
    if (hit && hit.until > now) {
      // A failed background reload is retried by the next look-up; the value stays until it expires.
      if (hit.until - now < this.ttlMs * REFRESH_AHEAD_SHARE) this.reload(key, load).catch(() => undefined);
      return hit.value;
    }
    try {
      return await this.reload(key, load);
    } catch (error) {
      if (hit) return hit.value;
      throw error;
    }
  }

  /** Forgets a key after this process changed what it caches (a load under way is not stored). */
  delete(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** Forgets every key (loads under way are not stored). */
  clear(): void {
    this.entries.clear();
    this.loading.clear();
  }

  private reload(key: string, load: () => Promise<V>): Promise<V> {
    const running = this.loading.get(key);
    if (running) return running;
    const loaded: Promise<V> = load()
      .then((value) => {
        if (this.loading.get(key) !== loaded) return value; // deleted meanwhile
        if (!this.entries.has(key) && this.entries.size >= this.maxEntries)
          this.entries.delete(this.entries.keys().next().value as string);
        this.entries.set(key, { value, until: this.now() + this.ttlMs });
        return value;
      })
      .finally(() => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
      });
    this.loading.set(key, loaded);
    return loaded;
  }
}
