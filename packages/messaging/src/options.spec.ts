import { DEFAULTS, backoffDelay, resolveOptions } from './options';

describe('resolveOptions', () => {
  it('fills the defaults', () => {
    expect(resolveOptions({ servers: 'nats://a:4222', prefix: '', service: 'analysis' })).toEqual({
      servers: ['nats://a:4222'],
      prefix: '',
      service: 'analysis',
      name: 'analysis',
      maxDeliver: 5,
      backoffMs: [1000, 5000, 15000, 60000],
      ackWaitMs: 30000,
      streamReplicas: 1,
      concurrency: 64,
      publishTimeoutMs: 5000,
      connectTimeoutMs: 10000,
      shutdownGraceMs: 5000,
    });
  });

  it('does not share the default backoff array', () => {
    const o = resolveOptions({ servers: ['x'], prefix: 'p1', service: 'delivery' });
    o.backoffMs.push(1);
    expect(DEFAULTS.backoffMs).toHaveLength(4);
  });

  it('rejects a bad prefix, empty servers and non-positive numbers', () => {
    expect(() => resolveOptions({ servers: 'x', prefix: 'a.b', service: 'analysis' })).toThrow(/prefix/);
    expect(() => resolveOptions({ servers: [' '], prefix: '', service: 'analysis' })).toThrow(/servers/);
    expect(() => resolveOptions({ servers: 'x', prefix: '', service: 'analysis', maxDeliver: 0 })).toThrow(
      /maxDeliver/,
    );
    expect(() =>
      resolveOptions({ servers: 'x', prefix: '', service: 'analysis', backoffMs: [10, -1] }),
    ).toThrow(/backoffMs\[1\]/);
  });
});

describe('backoffDelay', () => {
  it('uses the n-th entry after the n-th delivery and repeats the last', () => {
    const b = [50, 100, 400];
    expect([1, 2, 3, 4, 9].map((n) => backoffDelay(b, n))).toEqual([50, 100, 400, 400, 400]);
    expect(backoffDelay([], 3)).toBe(0);
    expect(backoffDelay(b, 0)).toBe(50);
  });
});
