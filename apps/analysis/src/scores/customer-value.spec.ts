import {
  addEvent,
  combine,
  customerValue,
  decayTo,
  revenueOf,
  signedRevenueOf,
  type Activity,
} from './customer-value';

const NO_ACTIVITY = (asOf: Date): Activity => ({ events: 0, revenue: 0, asOf });

const DAY = 86_400_000;
const t0 = new Date('2026-12-01T00:00:00.000Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);
const params = { halfLifeDays: 30, eventsMidpoint: 10, revenueMidpoint: 1000 };

describe('customer_value', () => {
  it('halves an event and its revenue every half-life', () => {
    const one = addEvent(NO_ACTIVITY(t0), t0, 400, 30);
    expect(decayTo(one, at(30), 30)).toEqual({ events: 0.5, revenue: 200, asOf: at(30) });
    expect(decayTo(one, at(60), 30)).toEqual({ events: 0.25, revenue: 100, asOf: at(60) });
    expect(decayTo(one, at(-5), 30)).toBe(one); // never back in time
  });

  it('gives the same activity whatever order the events come in (a late event adds its decayed weight)', () => {
    const inOrder = addEvent(addEvent(NO_ACTIVITY(t0), t0, 100, 30), at(30), 0, 30);
    const late = addEvent(addEvent(NO_ACTIVITY(t0), at(30), 0, 30), t0, 100, 30);
    expect(late.asOf).toEqual(at(30));
    expect(late.events).toBeCloseTo(inOrder.events, 12);
    expect(late.revenue).toBeCloseTo(inOrder.revenue, 12);
    expect(inOrder).toMatchObject({ events: 1.5, revenue: 50 });
  });

  it('adds activities up and takes one back out, never below zero', () => {
    const a = addEvent(NO_ACTIVITY(t0), t0, 1000, 30);
    const b = addEvent(NO_ACTIVITY(t0), at(30), 10, 30);
    const both = combine(a, b, 30);
    expect(both).toEqual({ events: 1.5, revenue: 510, asOf: at(30) });
    const back = combine(both, b, 30, -1);
    expect(back.events).toBeCloseTo(0.5, 12);
    expect(back.revenue).toBeCloseTo(500, 9);
    expect(combine(b, both, 30, -1)).toEqual({ events: 0, revenue: 0, asOf: at(30) });
  });

  it('takes a refund’s amount back out, in either order, and never scores revenue below 0', () => {
    const order = signedRevenueOf('Order Completed', { revenue: 1000 });
    const refund = signedRevenueOf('Order Refunded', { total: 1000 });
    expect([order, refund]).toEqual([1000, -1000]);
    const inOrder = addEvent(addEvent(NO_ACTIVITY(t0), t0, order, 30), t0, refund, 30);
    const refundFirst = addEvent(addEvent(NO_ACTIVITY(t0), t0, refund, 30), t0, order, 30);
    expect(inOrder).toEqual({ events: 2, revenue: 0, asOf: t0 });
    expect(refundFirst).toEqual(inOrder);
    // Before its order arrives, a refund leaves the sum negative: scored as no revenue at all.
    const early = addEvent(NO_ACTIVITY(t0), t0, refund, 30);
    expect(customerValue(early, t0, params)).toEqual(
      customerValue({ events: 1, revenue: 0, asOf: t0 }, t0, params),
    );
  });

  it('values frequency (40%) and revenue (60%), each saturating at its midpoint', () => {
    expect(customerValue(NO_ACTIVITY(t0), t0, params).value).toBe(0);
    const tenWithThousand = { events: 10, revenue: 1000, asOf: t0 };
    expect(customerValue(tenWithThousand, t0, params)).toEqual({
      value: 0.5,
      explanation: {
        events: 10,
        revenue: 1000,
        frequency: 0.5,
        monetary: 0.5,
        asOf: t0.toISOString(),
        halfLifeDays: 30,
      },
    });
    expect(customerValue({ events: 1e9, revenue: 1e12, asOf: t0 }, t0, params).value).toBe(1);
    // A customer who stops coming drifts down.
    expect(customerValue(tenWithThousand, at(30), params).value).toBe(0.333);
  });

  it('reads revenue from revenue, else value, else total; only positive numbers count', () => {
    expect(revenueOf({ revenue: 12.5, value: 99 })).toBe(12.5);
    expect(revenueOf({ value: 99, total: 7 })).toBe(99);
    expect(revenueOf({ total: 7 })).toBe(7);
    expect(revenueOf({ revenue: -20, total: 7 })).toBe(0);
    expect(revenueOf({ revenue: '12' })).toBe(0);
    expect(revenueOf({ revenue: Infinity })).toBe(0);
    expect(revenueOf({ product: 'loan' })).toBe(0);
  });
});
