import { MicroBatcher } from './micro-batcher';

describe('MicroBatcher', () => {
  it('sends items pushed together in one batch, at most maxSize each', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(3, 20, (items) => {
      batches.push(items);
      return Promise.resolve();
    });
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.push(n)));
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('rejects every push of a batch that failed, and only those', async () => {
    let fail = true;
    const batcher = new MicroBatcher<string>(10, 5, () => {
      const result = fail ? Promise.reject(new Error('platform down')) : Promise.resolve();
      fail = false;
      return result;
    });
    const first = [batcher.push('a'), batcher.push('b')].map((p) =>
      p.then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    );
    expect(await Promise.all(first)).toEqual(['platform down', 'platform down']);
    await expect(batcher.push('c')).resolves.toBeUndefined();
  });

  it('drain flushes what is waiting', async () => {
    const seen: string[] = [];
    const batcher = new MicroBatcher<string>(10, 60_000, (items) => {
      seen.push(...items);
      return Promise.resolve();
    });
    const pushed = batcher.push('x');
    await batcher.drain();
    await pushed;
    expect(seen).toEqual(['x']);
  });
});
