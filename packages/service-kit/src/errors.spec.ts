import { MessagingUnavailableError } from '@cdp/messaging';
import { DependencyUnavailableError, dependencyOf } from './errors';

describe('dependencyOf', () => {
  it('recognises unreachable dependencies through error causes', () => {
    expect(
      dependencyOf(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    ).toBe('dependency');
    expect(
      dependencyOf(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'P1001' }) })),
    ).toBe('postgres');
    expect(dependencyOf(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      'postgres',
    );
    expect(dependencyOf(new DependencyUnavailableError('redis'))).toBe('redis');
    expect(dependencyOf(new MessagingUnavailableError('nats down'))).toBe('nats');
  });

  it('leaves programming errors alone', () => {
    expect(dependencyOf(new TypeError('x is undefined'))).toBeUndefined();
    expect(dependencyOf(Object.assign(new Error('unique'), { code: 'P2002' }))).toBeUndefined();
  });
});
