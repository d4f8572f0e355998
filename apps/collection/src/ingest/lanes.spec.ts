import { laneOf } from './lanes';

describe('laneOf', () => {
  it('puts every call of one person in the same lane', () => {
    for (let i = 0; i < 100; i++) {
      const lane = laneOf({ workspaceId: 'w1', userId: `user-${i}` }, 2);
      expect(laneOf({ workspaceId: 'w1', userId: `user-${i}`, anonymousId: `anon-${i}` }, 2)).toBe(lane);
    }
  });

  it('uses the anonymousId when there is no userId', () => {
    expect(laneOf({ workspaceId: 'w1', anonymousId: 'a-7' }, 3)).toBe(
      laneOf({ workspaceId: 'w1', userId: 'a-7' }, 3),
    );
  });

  it('spreads people over all lanes, each lane within range', () => {
    for (const lanes of [1, 2, 3]) {
      const counts = new Array<number>(lanes).fill(0);
      for (let i = 0; i < 10_000; i++) counts[laneOf({ workspaceId: 'ws', userId: `u${i}` }, lanes)]! += 1;
      expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
      for (const count of counts) expect(count).toBeGreaterThan(10_000 / lanes / 2);
    }
  });
});
