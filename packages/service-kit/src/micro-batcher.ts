export interface MicroBatcherOptions<T> {
  /** A batch is flushed as soon as it holds this many items. */
  maxSize: number;
  /**
   * ...or this long after its first item arrived, whichever comes first. 0: at the end of the
   * event-loop turn the first item arrived in (setImmediate), so a batch holds what the turn
   * brought and waits for no timer; under load a turn brings more and batches grow by themselves.
   */
  maxDelayMs: number;
  /** Stores a whole batch; its rejection rejects every item of the batch. */
  flush: (items: T[]) => Promise<void>;
  /**
   * Let a batch flush while earlier ones are still flushing (true: any number; a number: at most
   * that many at once). Default: one flush at a time, and what queued up meanwhile is flushed as
   * soon as it ends (batches grow with the load).
   */
  concurrentFlushes?: boolean | number;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items handed in one by one and flushes them together. The callers' own concurrency
 * bounds the memory: every item is a caller awaiting its promise, settled when its batch is
 * stored (or rejected with the batch's error), so a message is acked only after its batch landed.
 */
export class MicroBatcher<T> {
  private queue: Array<Pending<T>> = [];
  private timer?: { cancel(): void };
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: MicroBatcherOptions<T>) {
    if (options.maxSize < 1) throw new Error('MicroBatcher.maxSize must be at least 1');
  }

  /** Resolves once the batch holding `item` has been flushed. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items waiting for a flush (not counting the batches being flushed). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Flushes what is waiting and waits for every batch under way. */
  async drain(): Promise<void> {
    while (this.queue.length || this.inFlight.size) {
      if (this.queue.length && this.canFlush()) this.startFlush();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private canFlush(): boolean {
    const { concurrentFlushes } = this.options;
    const limit = concurrentFlushes === true ? Infinity : concurrentFlushes || 1;
    return this.inFlight.size < limit;
  }

  private schedule(afterFlush = false): void {
    if (!this.canFlush()) return; // the running flush schedules the next one when it ends
    // Items that queued up during a serial flush have waited long enough: flush them at once.
    const waitedEnough = afterFlush && !this.options.concurrentFlushes;
    if (this.queue.length >= this.options.maxSize || (waitedEnough && this.queue.length > 0)) {
      this.startFlush();
    } else if (!this.timer && this.queue.length > 0) {
      const fire = () => {
        this.timer = undefined;
        // At the flush limit, the next flush to end schedules these items.
        if (this.canFlush()) this.startFlush();
      };
      if (this.options.maxDelayMs > 0) {
        const timeout = setTimeout(fire, this.options.maxDelayMs);
        this.timer = { cancel: () => clearTimeout(timeout) };
      } else {
        const immediate = setImmediate(fire);
        this.timer = { cancel: () => clearImmediate(immediate) };
      }
    }
  }

  private startFlush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const batch = this.queue.splice(0, this.options.maxSize);
    if (batch.length === 0) return;
    const done: Promise<void> = this.run(batch).finally(() => {
      this.inFlight.delete(done);
      this.schedule(true);
    });
    this.inFlight.add(done);
    if (this.options.concurrentFlushes) this.schedule(); // the rest starts its own wait
  }

  private async run(batch: Array<Pending<T>>): Promise<void> {
    try {
      await this.options.flush(batch.map((p) => p.item));
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
