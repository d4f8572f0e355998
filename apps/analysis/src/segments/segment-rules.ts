import type { PropertyFilter, SegmentCondition } from '@cdp/contracts';

export interface EvaluatedEvent {
  name?: string;
  properties: Record<string, unknown>;
}

function valueAt(properties: Record<string, unknown>, path: string): unknown {
  let current: unknown = properties;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function compare(actual: unknown, filter: PropertyFilter): boolean {
  const expected = filter.value;
  switch (filter.op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'eq':
      return actual === expected;
    case 'neq':
      return actual !== expected;
    case 'contains':
      return typeof actual === 'string' && typeof expected === 'string'
        ? actual.includes(expected)
        : Array.isArray(actual) && actual.includes(expected);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      return filter.op === 'gt'
        ? actual > expected
        : filter.op === 'gte'
          ? actual >= expected
          : filter.op === 'lt'
            ? actual < expected
            : actual <= expected;
    }
    default:
      return false;
  }
}

/** Does this event, on its own, satisfy the rule? (Membership, once entered, is kept by the caller.) */
export function eventMatches(condition: SegmentCondition, event: EvaluatedEvent): boolean {
  switch (condition.type) {
    case 'event':
      return (
        condition.name === event.name &&
        (condition.where ?? []).every((f) => compare(valueAt(event.properties, f.property), f))
      );
    case 'any':
      return condition.conditions.some((c) => eventMatches(c, event));
  }
}
