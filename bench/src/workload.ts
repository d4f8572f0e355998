import { randomUUID } from 'node:crypto';

const PRODUCTS = ['savings', 'deposit', 'loan', 'card', 'insurance', 'fund'];
const PAGES = [
  '/products/savings',
  '/products/loans/compare',
  '/apply/step-2',
  '/my/accounts',
  '/support/branch-finder',
];
/** Known people the benchmarks seed before measuring (user-0 ... user-9999). */
export const KNOWN_PEOPLE = 10_000;
/** Share of events from people never seen before (the "10% from new people"). */
export const NEW_PEOPLE_SHARE = 0.1;

/**
 * People for a realistic mix: `newShare` of the events come from people never seen before, the
 * rest from a known population (so identity resolution finds existing customers most of the time).
 */
export class People {
  private created = 0;
  private readonly tag = `${process.pid.toString(36)}${randomUUID().slice(0, 6)}`;
  constructor(
    private readonly known = KNOWN_PEOPLE,
    private readonly newShare = NEW_PEOPLE_SHARE,
  ) {}

  next(): string {
    if (Math.random() < this.newShare) return `new-${this.tag}-${(++this.created).toString(36)}`;
    return `user-${Math.floor(Math.random() * this.known)}`;
  }
}

/** A Segment track call of about 1 KB, shaped like what a bank's web and app SDKs send. */
export function trackEvent(userId: string) {
  const product = PRODUCTS[Math.floor(Math.random() * PRODUCTS.length)]!;
  const page = PAGES[Math.floor(Math.random() * PAGES.length)]!;
  return {
    type: 'track',
    messageId: randomUUID(),
    userId,
    anonymousId: `anon-${userId}`,
    event: 'Product Viewed',
    timestamp: new Date().toISOString(),
    properties: {
      product,
      productName: `${product} plus (variable rate, no fees in the first year)`,
      amount: Math.round(Math.random() * 100_000) / 100,
      sessionId: `s-${randomUUID()}`,
      currency: 'KRW',
      journeyStage: 'explore_compare',
      comparedWith: PRODUCTS.filter((p) => p !== product).slice(0, 3),
    },
    context: {
      ip: `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`,
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      library: { name: 'analytics.js', version: '5.2.0' },
      os: { name: 'iOS', version: '18.1' },
      screen: { width: 390, height: 844, density: 3 },
      locale: 'ko-KR',
      timezone: 'Asia/Seoul',
      page: {
        path: page,
        url: `https://bank.example.com${page}`,
        title: 'Compare savings accounts',
        referrer: 'https://search.example.com/?q=savings',
      },
      campaign: { source: 'newsletter', medium: 'email', name: 'autumn-rates' },
      channel: 'web',
    },
  };
}

/**
 * Serialized track calls made cheaply: the load generator shares the 2 cores with the service, so
 * it must not spend them on JSON. The static ~900 bytes of an event (product, page, context) come
 * from a few hundred pre-serialized variants; only messageId, userId, anonymousId and timestamp are
 * written per event, so every event is unique (dedup on messageId) and the people mix holds.
 */
export class EventWriter {
  private readonly tails: string[];
  private readonly people: People;
  private readonly tag = `${process.pid.toString(36)}${randomUUID().slice(0, 8)}`;
  private sequence = 0;

  constructor(known = KNOWN_PEOPLE, newShare = NEW_PEOPLE_SHARE) {
    this.people = new People(known, newShare);
    this.tails = Array.from({ length: 256 }, () => {
      const { event, properties, context } = trackEvent('x');
      return JSON.stringify({ event, properties, context }).slice(1);
    });
  }

  /** One track call as JSON; `userId` defaults to the next person of the mix. */
  event(userId = this.people.next(), timestamp = new Date().toISOString()): string {
    const tail = this.tails[this.sequence % this.tails.length]!;
    const messageId = `${this.tag}-${(++this.sequence).toString(36)}`;
    return `{"type":"track","messageId":"${messageId}","userId":"${userId}","anonymousId":"anon-${userId}","timestamp":"${timestamp}",${tail}`;
  }

  /** A /v1/batch body of `size` track calls. */
  batch(size: number): string {
    const timestamp = new Date().toISOString();
    const events: string[] = [];
    for (let i = 0; i < size; i++) events.push(this.event(undefined, timestamp));
    return `{"batch":[${events.join(',')}],"sentAt":"${timestamp}"}`;
  }

  /** Bytes of one serialized event (for the report). */
  eventBytes(): number {
    return Buffer.byteLength(this.event('user-1'));
  }
}
