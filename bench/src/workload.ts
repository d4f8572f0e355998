import { randomUUID } from 'node:crypto';

const PRODUCTS = ['savings', 'deposit', 'loan', 'card', 'insurance', 'fund'];
const PAGES = [
  '/products/savings',
  '/products/loans/compare',
  '/apply/step-2',
  '/my/accounts',
  '/support/branch-finder',
];

/**
 * People for a realistic mix: `newShare` of the events come from people never seen before, the
 * rest from a known population (so identity resolution finds existing customers most of the time).
 */
export class People {
  private created = 0;
  constructor(
    private readonly known: number,
    private readonly newShare: number,
  ) {}

  next(): string {
    if (Math.random() < this.newShare)
      return `new-${process.pid}-${++this.created}-${randomUUID().slice(0, 8)}`;
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
      currency: 'KRW',
      journeyStage: 'explore_compare',
      comparedWith: PRODUCTS.filter((p) => p !== product).slice(0, 3),
    },
    context: {
      ip: `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`,
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      library: { name: 'analytics.js', version: '5.2.0' },
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
