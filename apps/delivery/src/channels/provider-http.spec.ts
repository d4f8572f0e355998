import { httpFailure, retryAfterMs } from './provider-http';

describe('provider HTTP failures', () => {
  it('reads Retry-After as seconds or as a date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      10_000,
    );
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it('classifies statuses', () => {
    expect(httpFailure('x', 400, '').permanent).toBe(true);
    expect(httpFailure('x', 404, '').permanent).toBe(true);
    expect(httpFailure('x', 429, '', '3')).toMatchObject({ permanent: false, retryAfterMs: 3000 });
    expect(httpFailure('x', 408, '').permanent).toBe(false);
    expect(httpFailure('x', 502, '').permanent).toBe(false);
  });
});
