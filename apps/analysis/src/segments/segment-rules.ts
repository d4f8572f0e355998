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

function compare(actual: unknown, filter: Pick<PropertyFilter, 'op' | 'value'>): boolean {
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

type EventCondition = Extract<SegmentCondition, { type: 'event' }>;

/** Is the event one the condition looks for (its name and property filters), whatever the count? */
export function eventFits(condition: EventCondition, event: EvaluatedEvent): boolean {
  return (
    (typeof condition.name === 'string'
      ? condition.name === event.name
      : event.name !== undefined && condition.name.includes(event.name)) &&
    (condition.where ?? []).every((f) => compare(valueAt(event.properties, f.property), f))
  );
}

/**
 * A condition that counts events (`atLeast` more than one, a window, or `counting`: one of several
 * that must all hold, or part of a combined rule): decided by stored counts, as one event alone
 * does not decide it.
 */
const isCounted = (condition: EventCondition, counting: boolean): boolean =>
  counting || (condition.atLeast ?? 1) > 1 || condition.withinDays !== undefined;

/**
 * Does this event, on its own, satisfy the rule? (Membership, once entered, is kept by the caller.)
 * Conditions that count events are decided by {@link countsMatch} instead.
 */
export function eventMatches(condition: SegmentCondition, event: EvaluatedEvent): boolean {
  switch (condition.type) {
    case 'event':
      return !isCounted(condition, false) && eventFits(condition, event);
    case 'lifecycle':
    case 'trait':
    case 'score':
    case 'all':
      return false;
    case 'any':
      return condition.conditions.some((c) => eventMatches(c, event));
  }
}

/** A counting condition of a rule, and its JSON pointer in the rule (the key of its counted events). */
export interface CountedCondition {
  path: string;
  condition: EventCondition;
}

/**
 * The rule's conditions that count events; `counting`: every event condition of it (a combined
 * rule, see {@link combinedMatches}).
 */
export function countedConditions(
  condition: SegmentCondition,
  counting = false,
  path = '',
): CountedCondition[] {
  if (condition.type === 'event') return isCounted(condition, counting) ? [{ path, condition }] : [];
  if (condition.type !== 'any' && condition.type !== 'all') return [];
  return condition.conditions.flatMap((c, i) =>
    countedConditions(c, counting || condition.type === 'all', `${path}/conditions/${i}`),
  );
}

/**
 * Does a customer with these counts of matching events (by the counting condition's path; those of
 * a window counted within it) satisfy the rule's counting conditions?
 */
export function countsMatch(
  condition: SegmentCondition,
  counts: ReadonlyMap<string, number>,
  path = '',
  counting = false,
): boolean {
  switch (condition.type) {
    case 'event':
      return isCounted(condition, counting) && (counts.get(path) ?? 0) >= (condition.atLeast ?? 1);
    case 'lifecycle':
    case 'trait':
    case 'score':
      return false;
    case 'any':
      return condition.conditions.some((c, i) => countsMatch(c, counts, `${path}/conditions/${i}`, counting));
    case 'all':
      return condition.conditions.every((c, i) => countsMatch(c, counts, `${path}/conditions/${i}`, true));
  }
}

/** Everything a customer's membership of a combined segment depends on. */
export interface CustomerState {
  profile: EvaluatedProfile;
  /** Latest score by model. */
  scores: ReadonlyMap<string, number>;
  /** Matching events by the path of the rule's event conditions (see {@link countedConditions}). */
  counts: ReadonlyMap<string, number>;
}

/**
 * Does a customer in this state satisfy a combined rule (conditions of several kinds, e.g. a trait
 * and an event)? Its event conditions hold once the customer has performed the event (`atLeast`
 * times), as counted; the others as the profile and scores stand.
 */
export function combinedMatches(condition: SegmentCondition, state: CustomerState, path = ''): boolean {
  switch (condition.type) {
    case 'event':
      return (state.counts.get(path) ?? 0) >= (condition.atLeast ?? 1);
    case 'lifecycle':
    case 'trait':
      return profileMatches(condition, state.profile);
    case 'score':
      return scoreMatches(condition, state.scores);
    case 'any':
      return condition.conditions.some((c, i) => combinedMatches(c, state, `${path}/conditions/${i}`));
    case 'all':
      return condition.conditions.every((c, i) => combinedMatches(c, state, `${path}/conditions/${i}`));
  }
}

/** A customer's profile as cdp.profile.updated announces it. */
export interface EvaluatedProfile {
  stage: string;
  traits: Record<string, unknown>;
}

/** Does a customer with this profile (lifecycle stage, traits) satisfy the rule? (Decides entry and exit.) */
export function profileMatches(condition: SegmentCondition, profile: EvaluatedProfile): boolean {
  switch (condition.type) {
    case 'event':
    case 'score':
      return false;
    case 'lifecycle':
      return condition.stage === profile.stage;
    case 'trait':
      return compare(valueAt(profile.traits, condition.trait), condition);
    case 'any':
      return condition.conditions.some((c) => profileMatches(c, profile));
    case 'all':
      return condition.conditions.every((c) => profileMatches(c, profile));
  }
}

/** Does a customer with these latest scores (by model) satisfy the rule? (Decides entry and exit.) */
export function scoreMatches(condition: SegmentCondition, scores: ReadonlyMap<string, number>): boolean {
  switch (condition.type) {
    case 'event':
    case 'lifecycle':
    case 'trait':
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
    case 'all':
      return condition.conditions.every((c) => scoreMatches(c, scores));
  }
}

/**
 * What is wrong with a rule that is valid JSON but could never mean what its author wants, as
 * JSON pointer and reason: a score condition with neither bound (it would match any score), a
 * comparison other than `exists` without a value to compare with.
 */
export function ruleProblem(
  condition: SegmentCondition,
  path = '',
): { path: string; reason: string } | undefined {
  switch (condition.type) {
    case 'score':
      return condition.gte === undefined && condition.lt === undefined
        ? { path, reason: 'a score condition needs gte, lt or both' }
        : undefined;
    case 'trait':
      return valueMissing(condition, path);
    case 'event':
      for (const [i, filter] of (condition.where ?? []).entries()) {
        const missing = valueMissing(filter, `${path}/where/${i}`);
        if (missing) return missing;
      }
      return undefined;
    case 'lifecycle':
      return undefined;
    case 'any':
    case 'all':
      for (const [i, c] of condition.conditions.entries()) {
        const found = ruleProblem(c, `${path}/conditions/${i}`);
        if (found) return found;
      }
      return undefined;
  }
}

function valueMissing(
  comparison: Pick<PropertyFilter, 'op' | 'value'>,
  path: string,
): { path: string; reason: string } | undefined {
  return comparison.op !== 'exists' && comparison.value === undefined
    ? { path: `${path}/value`, reason: `op ${comparison.op} needs a value to compare with` }
    : undefined;
}

/**
 * What decides a segment's membership: events (kept once entered), events counted within a window
 * (entry and exit follow the count), the profile (lifecycle stage and traits) or scores.
 */
export type RuleKind = 'event' | 'window' | 'profile' | 'score';

/**
 * The kinds of condition a rule uses. One kind is followed by its own events; several make a
 * combined rule (see {@link combinedMatches}), which cannot include a window.
 */
export function ruleKinds(condition: SegmentCondition): Set<RuleKind> {
  if (condition.type === 'any' || condition.type === 'all')
    return new Set(condition.conditions.flatMap((c) => [...ruleKinds(c)]));
  if (condition.type === 'event') return new Set([condition.withinDays === undefined ? 'event' : 'window']);
  if (condition.type === 'lifecycle' || condition.type === 'trait') return new Set(['profile']);
  return new Set(['score']);
}
