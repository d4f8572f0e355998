/**
 * The `customer_value` score: a transparent RFM-style model (recency-weighted frequency and
 * monetary value), not a trained one. Every event counts 1 and its revenue its amount, both
 * halving every `halfLifeDays`, so recent activity weighs most and a customer who stops coming
 * drifts towards 0. Decayed sums add up, which lets a merge add two customers' activity together
 * and an unmerge take it apart again, and makes the result independent of the order events come in.
 */
export const CUSTOMER_VALUE_MODEL = 'customer_value';
export const CUSTOMER_VALUE_VERSION = 'rfm-decay-2';

/** Weights of the two parts of the value (they sum to 1, so the value is in [0, 1)). */
const FREQUENCY_WEIGHT = 0.4;
const MONETARY_WEIGHT = 0.6;

export interface CustomerValueParameters {
  halfLifeDays: number;
  /** Decayed event count at which the frequency part is half its maximum. */
  eventsMidpoint: number;
  /** Decayed revenue (in the workspace's currency) at which the monetary part is half its maximum. */
  revenueMidpoint: number;
}

/** Decayed sums as of a time. */
export interface Activity {
  events: number;
  revenue: number;
  asOf: Date;
}

function decayFactor(fromMs: number, toMs: number, halfLifeDays: number): number {
  return Math.pow(2, -(toMs - fromMs) / (halfLifeDays * 86_400_000));
}

/** The same activity as of a later time (an earlier `at` leaves it as it is). */
export function decayTo(activity: Activity, at: Date, halfLifeDays: number): Activity {
  if (at <= activity.asOf) return activity;
  const f = decayFactor(activity.asOf.getTime(), at.getTime(), halfLifeDays);
  return { events: activity.events * f, revenue: activity.revenue * f, asOf: at };
}

/**
 * `a` + `b` (or `a` - `b`, for an unmerge: never below 0), as of the later of their times. A sum is
 * not clamped: a refund handled before its order leaves the revenue below 0 until the order comes,
 * and the result is the same in either order (the score reads a negative revenue as 0).
 */
export function combine(a: Activity, b: Activity, halfLifeDays: number, sign: 1 | -1 = 1): Activity {
  const asOf = a.asOf > b.asOf ? a.asOf : b.asOf;
  const x = decayTo(a, asOf, halfLifeDays);
  const y = decayTo(b, asOf, halfLifeDays);
  const settle = (v: number) => (sign === -1 ? Math.max(0, v) : v);
  return { events: settle(x.events + sign * y.events), revenue: settle(x.revenue + sign * y.revenue), asOf };
}

/** Adds one event at `at` with `revenue`; a late event (before asOf) adds its already decayed weight. */
export function addEvent(activity: Activity, at: Date, revenue: number, halfLifeDays: number): Activity {
  return combine(activity, { events: 1, revenue, asOf: at }, halfLifeDays);
}

/** Events whose amount is money given back (the Segment e-commerce spec's refund). */
const REFUND_EVENTS = new Set(['Order Refunded']);

/**
 * An event's revenue: `properties.revenue`, else `value`, else `total` (the Segment e-commerce
 * spec's fields), when it is a positive finite number; otherwise 0. Negative for a refund
 * (`Order Refunded`): it takes its amount back out.
 */
export function signedRevenueOf(name: string | undefined, properties: Record<string, unknown>): number {
  const amount = revenueOf(properties);
  return name !== undefined && REFUND_EVENTS.has(name) ? -amount : amount;
}

/** The positive amount of an event's `revenue`, else `value`, else `total`; otherwise 0. */
export function revenueOf(properties: Record<string, unknown>): number {
  for (const field of ['revenue', 'value', 'total']) {
    const amount = properties[field];
    if (amount === undefined || amount === null) continue;
    return typeof amount === 'number' && Number.isFinite(amount) && amount > 0 ? amount : 0;
  }
  return 0;
}

export interface CustomerValue {
  /** In [0, 1), rounded to 3 decimals (a change smaller than that is not a change). */
  value: number;
  explanation: {
    events: number;
    revenue: number;
    frequency: number;
    monetary: number;
    asOf: string;
    halfLifeDays: number;
  };
}

/** The score of an activity as of `at`. */
export function customerValue(activity: Activity, at: Date, p: CustomerValueParameters): CustomerValue {
  const decayed = decayTo(activity, at, p.halfLifeDays);
  // A refund handled before its order leaves the sum below 0 for a while: no revenue, not less.
  const now = { ...decayed, revenue: Math.max(0, decayed.revenue) };
  const frequency = now.events / (now.events + p.eventsMidpoint);
  const monetary = now.revenue / (now.revenue + p.revenueMidpoint);
  const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    value: round(FREQUENCY_WEIGHT * frequency + MONETARY_WEIGHT * monetary, 3),
    explanation: {
      events: round(now.events, 4),
      revenue: round(now.revenue, 2),
      frequency: round(frequency, 4),
      monetary: round(monetary, 4),
      asOf: now.asOf.toISOString(),
      halfLifeDays: p.halfLifeDays,
    },
  };
}
