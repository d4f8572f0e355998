import { mergeTraits } from './traits';

const at = (iso: string) => new Date(iso);

describe('mergeTraits', () => {
  it('keeps the value of the newest call whatever the arrival order', () => {
    const merged = mergeTraits({ traits: {}, timestamps: {} }, [
      { traits: { plan: 'gold', city: 'Seoul' }, at: at('2026-11-02T00:00:00Z') },
      { traits: { plan: 'silver' }, at: at('2026-11-01T00:00:00Z') },
    ]);
    expect(merged.traits).toEqual({ plan: 'gold', city: 'Seoul' });
    expect(merged.timestamps.plan).toBe('2026-11-02T00:00:00.000Z');
  });

  it('does not let a late older call overwrite a stored newer value', () => {
    const stored = { traits: { plan: 'gold' }, timestamps: { plan: '2026-11-02T00:00:00.000Z' } };
    const merged = mergeTraits(stored, [
      { traits: { plan: 'bronze', age: 40 }, at: at('2026-11-01T00:00:00Z') },
    ]);
    expect(merged.traits).toEqual({ plan: 'gold', age: 40 });
    expect(merged.changed).toEqual(['age']);
  });

  it('lets any call set a trait stored without a timestamp, or one no longer present', () => {
    const stored = { traits: { plan: 'gold' }, timestamps: { gone: '2030-01-01T00:00:00.000Z' } };
    const merged = mergeTraits(stored, [
      { traits: { plan: 'silver', gone: 1 }, at: at('2026-11-01T00:00:00Z') },
    ]);
    expect(merged.traits).toEqual({ plan: 'silver', gone: 1 });
  });

  it('an equal timestamp applies (the later arrival wins a tie)', () => {
    const stored = { traits: { plan: 'gold' }, timestamps: { plan: '2026-11-01T00:00:00.000Z' } };
    expect(
      mergeTraits(stored, [{ traits: { plan: 'silver' }, at: at('2026-11-01T00:00:00Z') }]).traits.plan,
    ).toBe('silver');
  });
});

describe('mergeTraits valueChanged', () => {
  it('names only the traits whose value differs from the stored one', () => {
    const stored = {
      traits: { plan: 'gold', tags: ['a'], city: 'Seoul' },
      timestamps: { plan: '2026-11-01T00:00:00.000Z' },
    };
    const merged = mergeTraits(stored, [
      { traits: { plan: 'gold', tags: ['a'], city: 'Busan', age: 40 }, at: at('2026-11-02T00:00:00Z') },
    ]);
    expect(merged.changed.sort()).toEqual(['age', 'city', 'plan', 'tags']);
    expect(merged.valueChanged.sort()).toEqual(['age', 'city']);
  });

  it('a value set and set back within the updates is no change', () => {
    const stored = { traits: { plan: 'gold' }, timestamps: {} };
    const merged = mergeTraits(stored, [
      { traits: { plan: 'silver' }, at: at('2026-11-01T00:00:00Z') },
      { traits: { plan: 'gold' }, at: at('2026-11-02T00:00:00Z') },
    ]);
    expect(merged.valueChanged).toEqual([]);
  });
});
