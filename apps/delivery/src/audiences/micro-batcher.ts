interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Gathers items for up to `waitMs` (or until `maxSize`) and hands them to `flush` together. Each
 * `push` resolves only when its batch was flushed successfully, and rejects with the batch's error,
 * so a message is acked only after the platform accepted it.
 */
export class MicroBatcher<T> {
  private waiting: Waiting<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly maxSize: number,
    private readonly waitMs: number,
    private readonly flush: (items: T[]) => Promise<void>,
  ) {}

  push(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.maxSize) this.flushNow();
      else this.timer ??= setTimeout(() => this.flushNow(), this.waitMs);
    });
  }

  /** Flushes what is waiting and waits for every batch under way. */
  async drain(): Promise<void> {
    while (this.waiting.length) this.flushNow();
    await Promise.allSettled([...this.inFlight]);
  }

  private flushNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0, this.maxSize);
    if (this.waiting.length) this.timer = setTimeout(() => this.flushNow(), this.waitMs);
    if (!batch.length) return;
    const done = this.flush(batch.map((w) => w.item)).then(
      () => batch.forEach((w) => w.resolve()),
      (e: unknown) => batch.forEach((w) => w.reject(e)),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
