export type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

/** Keys kept per dictionary entry; a call with keys made of data (ids as keys) would grow it without end. */
export const MAX_DICTIONARY_KEYS = 200;
/** Nesting followed into objects (`address.city` is depth 2). */
const MAX_DEPTH = 3;

export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  // Parsed JSON holds nothing else.
  return 'object';
}

/**
 * Adds the keys of a call's properties (or traits) with their JSON types to `into`: nested object
 * keys joined with dots up to depth 3, arrays not entered, at most MAX_DICTIONARY_KEYS keys.
 */
export function collectShape(
  value: Record<string, unknown>,
  into: Map<string, Set<JsonType>>,
  prefix = '',
  depth = 1,
): void {
  for (const [key, child] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    let types = into.get(name);
    if (!types) {
      if (into.size >= MAX_DICTIONARY_KEYS) continue;
      types = new Set();
      into.set(name, types);
    }
    const type = jsonTypeOf(child);
    types.add(type);
    if (type === 'object' && depth < MAX_DEPTH)
      collectShape(child as Record<string, unknown>, into, name, depth + 1);
  }
}
