import type { SegmentCondition } from '@cdp/contracts';
import {
  countedConditions,
  countsMatch,
  eventFits,
  eventMatches,
  ruleKinds,
  scoreMatches,
  profileMatches,
  ruleProblem,
} from './segment-rules';

describe('eventMatches', () => {
  const opened = {
    name: 'Account Opened',
    properties: { product: 'savings', amount: 500, tags: ['new'], nested: { level: 2 } },
  };

  it('matches the event name and every property filter', () => {
    expect(eventMatches({ type: 'event', name: 'Account Opened' }, opened)).toBe(true);
    expect(eventMatches({ type: 'event', name: 'Account Closed' }, opened)).toBe(false);
    expect(
      eventMatches(
        {
          type: 'event',
          name: 'Account Opened',
          where: [
            { property: 'product', op: 'eq', value: 'savings' },
            { property: 'amount', op: 'gte', value: 500 },
          ],
        },
        opened,
      ),
    ).toBe(true);
    expect(
      eventMatches(
        { type: 'event', name: 'Account Opened', where: [{ property: 'amount', op: 'gt', value: 500 }] },
        opened,
      ),
    ).toBe(false);
    expect(
      eventMatches(
        { type: 'event', name: 'Account Opened', where: [{ property: 'nested.level', op: 'eq', value: 2 }] },
        opened,
      ),
    ).toBe(true);
    expect(
      eventMatches(
        {
          type: 'event',
          name: 'Account Opened',
          where: [{ property: 'tags', op: 'contains', value: 'new' }],
        },
        opened,
      ),
    ).toBe(true);
    expect(
      eventMatches(
        { type: 'event', name: 'Account Opened', where: [{ property: 'missing', op: 'exists' }] },
        opened,
      ),
    ).toBe(false);
    expect(
      eventMatches(
        { type: 'event', name: 'Account Opened', where: [{ property: 'product', op: 'gt', value: 1 }] },
        opened,
      ),
    ).toBe(false);
  });

  it('matches "any" when one branch does', () => {
    const rule = {
      type: 'any' as const,
      conditions: [
        { type: 'event' as const, name: 'Loan Applied' },
        { type: 'event' as const, name: 'Account Opened' },
      ],
    };
    expect(eventMatches(rule, opened)).toBe(true);
    expect(eventMatches(rule, { name: 'Logged In', properties: {} })).toBe(false);
  });
});

const at = (stage: string, traits: Record<string, unknown> = {}) => ({ stage, traits });

describe('profileMatches and ruleKinds', () => {
  it('matches the lifecycle stage a rule names, or any of several', () => {
    expect(profileMatches({ type: 'lifecycle', stage: 'prospect' }, at('prospect'))).toBe(true);
    expect(profileMatches({ type: 'lifecycle', stage: 'prospect' }, at('contracted'))).toBe(false);
    const either = {
      type: 'any' as const,
      conditions: [
        { type: 'lifecycle' as const, stage: 'potential' as const },
        { type: 'lifecycle' as const, stage: 'prospect' as const },
      ],
    };
    expect(profileMatches(either, at('potential'))).toBe(true);
    expect(profileMatches(either, at('contracted'))).toBe(false);
    // Events never decide a lifecycle segment, nor stages an event segment.
    expect(profileMatches({ type: 'event', name: 'Account Opened' }, at('prospect'))).toBe(false);
    expect(eventMatches({ type: 'lifecycle', stage: 'prospect' }, { name: 'x', properties: {} })).toBe(false);
  });

  it('compares a trait at a dot path, and mixes it with stages under any', () => {
    const profile = at('prospect', { plan: 'gold', age: 41, address: { city: 'Busan' }, tags: ['vip'] });
    const trait = (path: string, op: 'eq' | 'neq' | 'gte' | 'contains' | 'exists', value?: string | number) =>
      profileMatches({ type: 'trait', trait: path, op, ...(value !== undefined && { value }) }, profile);
    expect(trait('plan', 'eq', 'gold')).toBe(true);
    expect(trait('plan', 'eq', 'silver')).toBe(false);
    expect(trait('address.city', 'eq', 'Busan')).toBe(true);
    expect(trait('age', 'gte', 41)).toBe(true);
    expect(trait('age', 'gte', 42)).toBe(false);
    expect(trait('tags', 'contains', 'vip')).toBe(true);
    expect(trait('email', 'exists')).toBe(false);
    expect(trait('email', 'neq', 'x')).toBe(true);
    const either = {
      type: 'any' as const,
      conditions: [
        { type: 'lifecycle' as const, stage: 'contracted' as const },
        { type: 'trait' as const, trait: 'plan', op: 'eq' as const, value: 'gold' },
      ],
    };
    expect(profileMatches(either, profile)).toBe(true);
    expect(profileMatches(either, at('prospect', { plan: 'silver' }))).toBe(false);
    expect([...ruleKinds(either)]).toEqual(['profile']);
    expect(eventMatches(either, { name: 'x', properties: { plan: 'gold' } })).toBe(false);
  });

  it('names the kinds of condition a rule uses', () => {
    expect([...ruleKinds({ type: 'event', name: 'a' })]).toEqual(['event']);
    expect([
      ...ruleKinds({
        type: 'any',
        conditions: [
          { type: 'event', name: 'a' },
          { type: 'any', conditions: [{ type: 'lifecycle', stage: 'contracted' }] },
        ],
      }),
    ]).toEqual(['event', 'profile']);
  });
});

describe('scoreMatches and ruleProblem', () => {
  const scores = new Map([
    ['customer_value', 0.5],
    ['churn_risk', 0.9],
  ]);

  it('matches a score at least gte and below lt', () => {
    const band = (gte?: number, lt?: number) =>
      scoreMatches({ type: 'score', model: 'customer_value', gte, lt }, scores);
    expect(band(0.5)).toBe(true);
    expect(band(0.51)).toBe(false);
    expect(band(undefined, 0.5)).toBe(false);
    expect(band(0.2, 0.6)).toBe(true);
    expect(scoreMatches({ type: 'score', model: 'propensity', gte: 0 }, scores)).toBe(false);
    expect(
      scoreMatches(
        {
          type: 'any',
          conditions: [
            { type: 'score', model: 'customer_value', gte: 0.8 },
            { type: 'score', model: 'churn_risk', gte: 0.8 },
          ],
        },
        scores,
      ),
    ).toBe(true);
    expect(scoreMatches({ type: 'lifecycle', stage: 'prospect' }, scores)).toBe(false);
    expect(eventMatches({ type: 'score', model: 'x', gte: 0 }, { name: 'x', properties: {} })).toBe(false);
    expect([...ruleKinds({ type: 'score', model: 'x', lt: 1 })]).toEqual(['score']);
  });

  it('finds a score condition with neither bound', () => {
    expect(ruleProblem({ type: 'score', model: 'x', gte: 0 })).toBeUndefined();
    expect(ruleProblem({ type: 'score', model: 'x' })).toEqual({
      path: '',
      reason: 'a score condition needs gte, lt or both',
    });
    expect(
      ruleProblem({
        type: 'any',
        conditions: [
          { type: 'score', model: 'x', lt: 1 },
          { type: 'any', conditions: [{ type: 'score', model: 'y' }] },
        ],
      })?.path,
    ).toBe('/conditions/1/conditions/0');
  });

  it('finds a comparison without a value, in a trait condition or an event filter', () => {
    expect(ruleProblem({ type: 'trait', trait: 'plan', op: 'exists' })).toBeUndefined();
    expect(ruleProblem({ type: 'trait', trait: 'plan', op: 'eq' })).toEqual({
      path: '/value',
      reason: 'op eq needs a value to compare with',
    });
    expect(
      ruleProblem({
        type: 'any',
        conditions: [
          { type: 'lifecycle', stage: 'prospect' },
          {
            type: 'event',
            name: 'a',
            where: [
              { property: 'p', op: 'exists' },
              { property: 'q', op: 'gt' },
            ],
          },
        ],
      })?.path,
    ).toBe('/conditions/1/where/1/value');
  });
});

describe('counting conditions', () => {
  const viewed = { type: 'event' as const, name: 'Loan Page Viewed' };
  const rule: SegmentCondition = {
    type: 'any',
    conditions: [
      { ...viewed, atLeast: 3, withinDays: 7 },
      { type: 'event', name: 'Loan Applied', withinDays: 30 },
    ],
  };

  it('lists the conditions that count, by their path in the rule', () => {
    expect(countedConditions(rule).map((c) => c.path)).toEqual(['/conditions/0', '/conditions/1']);
    expect(countedConditions({ ...viewed, atLeast: 2 })).toEqual([
      { path: '', condition: { ...viewed, atLeast: 2 } },
    ]);
    // One matching event is enough without atLeast or a window: decided by the event alone.
    expect(countedConditions(viewed)).toEqual([]);
    expect(countedConditions({ ...viewed, atLeast: 1 })).toEqual([]);
  });

  it('matches when one counting condition reaches its count, and never on the event alone', () => {
    expect(countsMatch(rule, new Map([['/conditions/0', 2]]))).toBe(false);
    expect(countsMatch(rule, new Map([['/conditions/0', 3]]))).toBe(true);
    expect(countsMatch(rule, new Map([['/conditions/1', 1]]))).toBe(true); // atLeast defaults to 1
    expect(countsMatch(rule, new Map())).toBe(false);
    expect(eventMatches(rule, { name: 'Loan Page Viewed', properties: {} })).toBe(false);
    expect(eventFits({ ...viewed, atLeast: 3 }, { name: 'Loan Page Viewed', properties: {} })).toBe(true);
  });

  it('makes a window its own kind of rule (entry and exit), atLeast alone stays an event rule', () => {
    expect(ruleKinds(rule)).toEqual(new Set(['window']));
    expect(ruleKinds({ ...viewed, atLeast: 5 })).toEqual(new Set(['event']));
    expect(
      ruleKinds({
        type: 'any',
        conditions: [
          { ...viewed, withinDays: 7 },
          { type: 'event', name: 'Loan Applied' },
        ],
      }),
    ).toEqual(new Set(['window', 'event']));
  });
});

describe('all of several conditions', () => {
  it('profile and score rules hold when every condition does', () => {
    const rule = {
      type: 'all' as const,
      conditions: [
        { type: 'lifecycle' as const, stage: 'prospect' as const },
        { type: 'trait' as const, trait: 'plan', op: 'eq' as const, value: 'gold' },
      ],
    };
    expect(profileMatches(rule, at('prospect', { plan: 'gold' }))).toBe(true);
    expect(profileMatches(rule, at('contracted', { plan: 'gold' }))).toBe(false);
    const scores = new Map([
      ['customer_value', 0.7],
      ['churn_risk', 0.2],
    ]);
    const valuableAndLoyal = {
      type: 'all' as const,
      conditions: [
        { type: 'score' as const, model: 'customer_value', gte: 0.5 },
        { type: 'score' as const, model: 'churn_risk', lt: 0.3 },
      ],
    };
    expect(scoreMatches(valuableAndLoyal, scores)).toBe(true);
    expect(scoreMatches(valuableAndLoyal, new Map([['customer_value', 0.7]]))).toBe(false);
  });

  it('event conditions under all are counted, and match once each has a matching event', () => {
    const rule = {
      type: 'any' as const,
      conditions: [
        { type: 'event' as const, name: 'Loan Approved' },
        {
          type: 'all' as const,
          conditions: [
            { type: 'event' as const, name: 'Loan Applied' },
            { type: 'event' as const, name: 'Branch Visited', atLeast: 2 },
          ],
        },
      ],
    };
    expect(countedConditions(rule).map((c) => c.path)).toEqual([
      '/conditions/1/conditions/0',
      '/conditions/1/conditions/1',
    ]);
    // One event alone decides only the plain condition outside the all.
    expect(eventMatches(rule, { name: 'Loan Applied', properties: {} })).toBe(false);
    expect(eventMatches(rule, { name: 'Loan Approved', properties: {} })).toBe(true);
    const counts = (applied: number, visited: number) =>
      new Map([
        ['/conditions/1/conditions/0', applied],
        ['/conditions/1/conditions/1', visited],
      ]);
    expect(countsMatch(rule, counts(1, 2))).toBe(true);
    expect(countsMatch(rule, counts(1, 1))).toBe(false);
    expect(countsMatch(rule, counts(0, 3))).toBe(false);
    expect([...ruleKinds(rule)]).toEqual(['event']);
  });
});

describe('several event names', () => {
  it('matches an event of any of the names', () => {
    const rule = { type: 'event' as const, name: ['Branch Visited', 'Advisor Called'] };
    expect(eventFits(rule, { name: 'Advisor Called', properties: {} })).toBe(true);
    expect(eventFits(rule, { name: 'Loan Applied', properties: {} })).toBe(false);
    expect(eventFits(rule, { properties: {} })).toBe(false);
    expect(eventMatches(rule, { name: 'Branch Visited', properties: {} })).toBe(true);
  });
});
