import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  it('serves a fresh value from memory, reloads an expired one', async () => {
    const cache = new TtlCache<number>(20);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('k', load)).toBe(1);
    expect(await cache.get('k', load)).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(await cache.get('k', load)).toBe(2);
  });

  it('serves the expired value while the source fails, and the error when nothing is cached', async () => {
    const cache = new TtlCache<string>(10);
    await cache.get('k', async () => 'known');
    await new Promise((r) => setTimeout(r, 20));
    const down = async (): Promise<string> => {
      throw new Error('postgres unreachable');
    };
    expect(await cache.get('k', down)).toBe('known');
    await expect(cache.get('other', down)).rejects.toThrow('postgres unreachable');
    expect(await cache.get('k', async () => 'fresh')).toBe('fresh');
  });
});
