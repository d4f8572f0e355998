import { collectShape, MAX_DICTIONARY_KEYS, type JsonType } from './property-shape';

describe('dictionary property shapes', () => {
  it('records each key with every JSON type seen, nested keys with dots up to depth 3', () => {
    const shape = new Map<string, Set<JsonType>>();
    collectShape(
      { amount: 5, tags: ['a'], address: { city: 'Seoul', geo: { lat: 1.5, deep: { x: 1 } } } },
      shape,
    );
    collectShape({ amount: 5.5, note: null, ok: true }, shape);
    const plain = Object.fromEntries([...shape].map(([k, v]) => [k, [...v].sort()]));
    expect(plain).toEqual({
      amount: ['integer', 'number'],
      tags: ['array'],
      address: ['object'],
      'address.city': ['string'],
      'address.geo': ['object'],
      'address.geo.lat': ['number'],
      'address.geo.deep': ['object'],
      note: ['null'],
      ok: ['boolean'],
    });
  });

  it('stops adding keys at the limit but keeps typing known ones', () => {
    const shape = new Map<string, Set<JsonType>>();
    collectShape(
      Object.fromEntries(Array.from({ length: MAX_DICTIONARY_KEYS + 50 }, (_, i) => [`k${i}`, i])),
      shape,
    );
    collectShape({ k0: 'text', other: 1 }, shape);
    expect(shape.size).toBe(MAX_DICTIONARY_KEYS);
    expect([...(shape.get('k0') ?? [])].sort()).toEqual(['integer', 'string']);
    expect(shape.has('other')).toBe(false);
  });
});
