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
    case 'lifecycle':
    case 'score':
      return false;
    case 'any':
      return condition.conditions.some((c) => eventMatches(c, event));
  }
}

/** Does a customer in this lifecycle stage satisfy the rule? (Decides entry and exit.) */
export function stageMatches(condition: SegmentCondition, stage: string): boolean {
  switch (condition.type) {
    case 'event':
    case 'score':
      return false;
    case 'lifecycle':
      return condition.stage === stage;
    case 'any':
      return condition.conditions.some((c) => stageMatches(c, stage));
  }
}

/** Does a customer with these latest scores (by model) satisfy the rule? (Decides entry and exit.) */
export function scoreMatches(condition: SegmentCondition, scores: ReadonlyMap<string, number>): boolean {
  switch (condition.type) {
    case 'event':
    case 'lifecycle':
      return false;
    case 'score': {
      const value = scores.get(condition.model);
      return (
        value !== undefined &&
        (condition.gte === undefined || value >= condition.gte) &&
        (condition.lt === undefined || value < condition.lt)
      );
    }
    case 'any':
      return condition.conditions.some((c) => scoreMatches(c, scores));
  }
}

/** Where a score condition has neither bound (it would match any score), as a JSON pointer. */
export function unboundedScoreCondition(condition: SegmentCondition, path = ''): string | undefined {
  if (condition.type === 'score')
    return condition.gte === undefined && condition.lt === undefined ? path : undefined;
  if (condition.type !== 'any') return undefined;
  for (const [i, c] of condition.conditions.entries()) {
    const found = unboundedScoreCondition(c, `${path}/conditions/${i}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What decides a segment's membership: events (kept once entered), the lifecycle stage or scores. */
export type RuleKind = 'event' | 'lifecycle' | 'score';

/** The kinds of condition a rule uses (a valid segment uses exactly one). */
export function ruleKinds(condition: SegmentCondition): Set<RuleKind> {
  return condition.type === 'any'
    ? new Set(condition.conditions.flatMap((c) => [...ruleKinds(c)]))
    : new Set([condition.type]);
}
