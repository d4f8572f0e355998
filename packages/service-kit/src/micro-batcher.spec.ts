import { MicroBatcher } from './micro-batcher';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('MicroBatcher', () => {
  it('flushes at maxSize without waiting for the delay', async () => {
    const flushed: number[][] = [];
    const batcher = new MicroBatcher<number>({
      maxSize: 3,
      maxDelayMs: 60_000,
      flush: async (items) => void flushed.push(items),
    });
    await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(flushed).toEqual([[1, 2, 3]]);
  });

  it('flushes a partial batch after maxDelayMs', async () => {
    const flushed: number[][] = [];
    const batcher = new MicroBatcher<number>({
      maxSize: 100,
      maxDelayMs: 5,
      flush: async (items) => void flushed.push(items),
    });
    await Promise.all([batcher.add(1), batcher.add(2)]);
    expect(flushed).toEqual([[1, 2]]);
  });

  it('with maxDelayMs 0, flushes what one event-loop turn brought at the end of that turn', async () => {
    const flushed: number[][] = [];
    const batcher = new MicroBatcher<number>({
      maxSize: 100,
      maxDelayMs: 0,
      concurrentFlushes: true,
      flush: async (items) => void flushed.push(items),
    });
    const first = [batcher.add(1), batcher.add(2)];
    // A later turn (after the check phase): its items are a batch of their own.
    const second = new Promise<void>((resolve) =>
      setTimeout(() => void Promise.all([batcher.add(3), batcher.add(4)]).then(() => resolve()), 5),
    );
    await Promise.all([...first, second]);
    expect(flushed).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('runs one flush at a time and takes what queued up meanwhile in the next batch at once', async () => {
    const gate = deferred();
    const flushed: number[][] = [];
    let running = 0;
    let maxRunning = 0;
    const batcher = new MicroBatcher<number>({
      maxSize: 2,
      maxDelayMs: 60_000,
      flush: async (items) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        flushed.push(items);
        if (items[0] === 1) await gate.promise;
        running--;
      },
    });
    const first = [batcher.add(1), batcher.add(2)];
    const later = [batcher.add(3), batcher.add(4), batcher.add(5)];
    expect(batcher.waiting).toBe(3);
    gate.resolve();
    await Promise.all([...first, ...later]);
    expect(flushed).toEqual([[1, 2], [3, 4], [5]]);
    expect(maxRunning).toBe(1);
  });

  it('rejects every caller of a failed batch and keeps serving the next ones', async () => {
    const batcher = new MicroBatcher<string>({
      maxSize: 2,
      maxDelayMs: 1,
      flush: async (items) => {
        if (items.includes('bad')) throw new Error('batch failed');
      },
    });
    const results = await Promise.allSettled([batcher.add('good'), batcher.add('bad')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(batcher.add('good again')).resolves.toBeUndefined();
  });

  it('refuses a maxSize below 1', () => {
    expect(() => new MicroBatcher({ maxSize: 0, maxDelayMs: 1, flush: async () => undefined })).toThrow(
      /maxSize/,
    );
  });

  describe('with concurrent flushes', () => {
    it('sends items pushed together in one batch, at most maxSize each', async () => {
      const batches: number[][] = [];
      const batcher = new MicroBatcher<number>({
        maxSize: 3,
        maxDelayMs: 20,
        concurrentFlushes: true,
        flush: (items) => {
          batches.push(items);
          return Promise.resolve();
        },
      });
      await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
      expect(batches).toEqual([
        [1, 2, 3],
        [4, 5],
      ]);
    });

    it('rejects every item of a batch that failed, and only those', async () => {
      let fail = true;
      const batcher = new MicroBatcher<string>({
        maxSize: 10,
        maxDelayMs: 5,
        concurrentFlushes: true,
        flush: () => {
          const result = fail ? Promise.reject(new Error('platform down')) : Promise.resolve();
          fail = false;
          return result;
        },
      });
      const first = [batcher.add('a'), batcher.add('b')].map((p) =>
        p.then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      );
      expect(await Promise.all(first)).toEqual(['platform down', 'platform down']);
      await expect(batcher.add('c')).resolves.toBeUndefined();
    });

    it('drain flushes what is waiting', async () => {
      const seen: string[] = [];
      const batcher = new MicroBatcher<string>({
        maxSize: 10,
        maxDelayMs: 60_000,
        concurrentFlushes: true,
        flush: (items) => {
          seen.push(...items);
          return Promise.resolve();
        },
      });
      const added = batcher.add('x');
      await batcher.drain();
      await added;
      expect(seen).toEqual(['x']);
    });
  });

  it('runs at most the given number of flushes at once', async () => {
    let running = 0;
    let most = 0;
    const batcher = new MicroBatcher<number>({
      maxSize: 2,
      maxDelayMs: 1,
      concurrentFlushes: 2,
      flush: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
      },
    });
    await Promise.all(Array.from({ length: 11 }, (_, i) => batcher.add(i)));
    expect(most).toBe(2);
  });

  describe('with keyOf', () => {
    it('keeps the items of a key out of a batch while another batch holding that key flushes', async () => {
      const gates: Array<ReturnType<typeof deferred>> = [];
      const flushed: string[][] = [];
      const batcher = new MicroBatcher<string>({
        maxSize: 3,
        maxDelayMs: 1,
        concurrentFlushes: 3,
        keyOf: (item) => item[0]!,
        flush: async (items) => {
          flushed.push(items);
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
        },
      });
      // a1 b1 c1 fill the first batch; the second takes d1 e1 and leaves a2 b2 for later.
      const done = ['a1', 'b1', 'c1', 'a2', 'd1', 'b2', 'e1'].map((item) => batcher.add(item));
      await new Promise((r) => setTimeout(r, 20));
      expect(flushed).toEqual([
        ['a1', 'b1', 'c1'],
        ['d1', 'e1'],
      ]);
      gates[0]!.resolve();
      await new Promise((r) => setTimeout(r, 20));
      expect(flushed[2]).toEqual(['a2', 'b2']);
      gates.forEach((gate) => gate.resolve());
      await Promise.all(done);
      expect(flushed.flat().sort()).toEqual(['a1', 'a2', 'b1', 'b2', 'c1', 'd1', 'e1']);
    });

    it("flushes a key's items in arrival order, and waits when every waiting key is busy", async () => {
      const flushed: string[][] = [];
      let running = 0;
      let most = 0;
      const batcher = new MicroBatcher<string>({
        maxSize: 2,
        maxDelayMs: 0,
        concurrentFlushes: 4,
        keyOf: (item) => item[0]!,
        flush: async (items) => {
          most = Math.max(most, ++running);
          flushed.push(items);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        },
      });
      const items = ['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'a6'];
      await Promise.all(items.map((item) => batcher.add(item)));
      const order = flushed.flat();
      expect(order.filter((i) => i.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
      // Never two batches holding a's items at once: at most one of a's and b's own.
      expect(most).toBe(2);
      await batcher.drain();
    });
  });
});
