import { TtlCache } from './ttl-cache';

/** A clock the test moves by hand, so no assertion depends on how late a timer fires. */
function manualClock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Lets a background reload (a resolved promise chain) finish. */
const settle = () => new Promise((r) => setImmediate(r));

describe('TtlCache', () => {
  it('serves a fresh value from memory, reloads an expired one', async () => {
    const clock = manualClock();
    const cache = new TtlCache<number>(20, 10, clock.now);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('k', load)).toBe(1);
    expect(await cache.get('k', load)).toBe(1);
    clock.advance(30);
    expect(await cache.get('k', load)).toBe(2);
  });

  it('serves the expired value while the source fails, and the error when nothing is cached', async () => {
    const clock = manualClock();
    const cache = new TtlCache<string>(10, 10, clock.now);
    await cache.get('k', async () => 'known');
    clock.advance(20);
    const down = async (): Promise<string> => {
      throw new Error('postgres unreachable');
    };
    expect(await cache.get('k', down)).toBe('known');
    await expect(cache.get('other', down)).rejects.toThrow('postgres unreachable');
    expect(await cache.get('k', async () => 'fresh')).toBe('fresh');
  });
});

describe('TtlCache loads', () => {
  it('runs one load per key however many callers ask while it runs', async () => {
    const cache = new TtlCache<number>(1000);
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      loads += 1;
      await gate;
      return loads;
    };
    const answers = Array.from({ length: 50 }, () => cache.get('k', load));
    release();
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 50 }, () => 1));
    expect(loads).toBe(1);
  });

  it('reloads in the background near the end of the time to live, serving the current value meanwhile', async () => {
    const clock = manualClock();
    const cache = new TtlCache<number>(50, 10, clock.now);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('k', load)).toBe(1);
    clock.advance(45); // inside the last 20% of the 50 ms
    expect(await cache.get('k', load)).toBe(1);
    await settle(); // the background reload stores 2, valid for 50 ms from now
    clock.advance(10); // the first value would have expired; the reloaded one has not
    expect(await cache.get('k', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('does not store a load that was under way when the key was deleted', async () => {
    const cache = new TtlCache<string>(1000);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = cache.get('k', async () => {
      await gate;
      return 'before the change';
    });
    cache.delete('k');
    release();
    expect(await slow).toBe('before the change');
    expect(await cache.get('k', async () => 'after the change')).toBe('after the change');
  });

  it('forgets every key on clear, a load under way included', async () => {
    const cache = new TtlCache<string>(1000);
    await cache.get('a', async () => 'a1');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = cache.get('b', async () => {
      await gate;
      return 'b1';
    });
    cache.clear();
    release();
    expect(await slow).toBe('b1');
    expect(await cache.get('a', async () => 'a2')).toBe('a2');
    expect(await cache.get('b', async () => 'b2')).toBe('b2');
  });
});
