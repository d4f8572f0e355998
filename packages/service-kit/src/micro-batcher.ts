export interface MicroBatcherOptions<T> {
  /** A batch is flushed as soon as it holds this many items. */
  maxSize: number;
  /** ...or this long after its first item arrived, whichever comes first. */
  maxDelayMs: number;
  /** Stores a whole batch; its rejection rejects every item of the batch. */
  flush: (items: T[]) => Promise<void>;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items handed in one by one and flushes them together. One flush runs at a time (items
 * arriving meanwhile wait for the next one), so the callers' own concurrency bounds the memory:
 * every item is a caller awaiting its promise, settled when its batch is stored or fails.
 */
export class MicroBatcher<T> {
  private queue: Array<Pending<T>> = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

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

  /** Items waiting for a flush (not counting the batch being flushed). */
  get waiting(): number {
    return this.queue.length;
  }

  private schedule(afterFlush = false): void {
    if (this.flushing) return; // the running flush schedules the next one when it ends
    // Items that queued up during a flush have waited long enough: flush them at once.
    if (this.queue.length >= this.options.maxSize || (afterFlush && this.queue.length > 0)) {
      this.startFlush();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => this.startFlush(), this.options.maxDelayMs);
    }
  }

  private startFlush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, this.options.maxSize);
    if (batch.length === 0) return;
    this.flushing = this.run(batch).finally(() => {
      this.flushing = undefined;
      this.schedule(true);
    });
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
