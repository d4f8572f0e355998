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
  /**
   * Items of one key never sit in two batches flushing at once: a batch takes, in arrival order,
   * the items whose key no running batch holds, and the others wait, in order, for a later one.
   * For flushes that lock by key (a customer, an identifier): concurrent batches then rarely wait
   * for each other's locks, and one key's items are flushed in arrival order.
   */
  keyOf?: (item: T) => string;
}

interface Pending<T> {
  item: T;
  /** keyOf(item), computed once: a batch's selection reads it for every waiting item. */
  key?: string;
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
  /** Keys held by the batches flushing (keyOf). */
  private readonly busyKeys = new Set<string>();
  /** Every waiting item's key is busy: nothing can start until a batch ends (keyOf). */
  private blocked = false;
  /** Too few waiting items' keys are free for a full batch: they wait for the delay (keyOf). */
  private short = false;

  constructor(private readonly options: MicroBatcherOptions<T>) {
    if (options.maxSize < 1) throw new Error('MicroBatcher.maxSize must be at least 1');
  }

  /** Resolves once the batch holding `item` has been flushed. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, key: this.options.keyOf?.(item), resolve, reject });
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
      if (this.queue.length && this.canFlush()) this.startFlush(1);
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private canFlush(): boolean {
    const { concurrentFlushes } = this.options;
    const limit = concurrentFlushes === true ? Infinity : concurrentFlushes || 1;
    return this.inFlight.size < limit && !this.blocked;
  }

  private schedule(afterFlush = false): void {
    if (!this.canFlush()) return; // the running flush schedules the next one when it ends
    // Items that queued up during a serial flush have waited long enough: flush them at once.
    const waitedEnough = afterFlush && !this.options.concurrentFlushes;
    if (waitedEnough && this.queue.length > 0) {
      this.startFlush(1);
    } else if (this.queue.length >= this.options.maxSize && !this.short) {
      this.startFlush(this.options.maxSize);
    } else if (!this.timer && this.queue.length > 0) {
      const fire = () => {
        this.timer = undefined;
        // At the flush limit, the next flush to end schedules these items.
        if (this.canFlush()) this.startFlush(1);
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

  /** Starts a batch of at least `minSize` items, if that many can go. */
  private startFlush(minSize: number): void {
    this.timer?.cancel();
    this.timer = undefined;
    const batch = this.take(minSize);
    if (batch.length === 0) {
      // Until a batch ends: with none free, nothing can start; with too few, they wait for the delay.
      if (minSize > 1) this.short = true;
      else this.blocked = true;
      this.schedule();
      return;
    }
    const keys = this.hold(batch);
    const done: Promise<void> = this.run(batch).finally(() => {
      this.inFlight.delete(done);
      this.release(keys);
      this.schedule(true);
    });
    this.inFlight.add(done);
    if (this.options.concurrentFlushes) this.schedule(); // the rest starts its own wait
  }

  /**
   * The next batch, or none if fewer than `minSize` items can go: the first maxSize items, with
   * keyOf the first maxSize whose key no running batch holds.
   */
  private take(minSize: number): Array<Pending<T>> {
    const { maxSize } = this.options;
    if (!this.busyKeys.size) return this.queue.length >= minSize ? this.queue.splice(0, maxSize) : [];
    const batch: Array<Pending<T>> = [];
    const left: Array<Pending<T>> = [];
    for (const pending of this.queue) {
      if (batch.length < maxSize && !this.busyKeys.has(pending.key!)) batch.push(pending);
      else left.push(pending);
    }
    if (batch.length < minSize) return [];
    this.queue = left;
    return batch;
  }

  private hold(batch: Array<Pending<T>>): string[] {
    if (!this.options.keyOf) return [];
    const keys = [...new Set(batch.map((p) => p.key!))];
    for (const key of keys) this.busyKeys.add(key);
    return keys;
  }

  private release(keys: string[]): void {
    for (const key of keys) this.busyKeys.delete(key);
    this.blocked = false;
    this.short = false;
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
