import { BadRequestException } from '@nestjs/common';
import { queryDateTime } from './query';

describe('queryDateTime', () => {
  it('reads ISO 8601 dates and date-times, and leaves an absent one undefined', () => {
    expect(queryDateTime(undefined, 'since')).toBeUndefined();
    expect(queryDateTime('2026-12-05', 'since')?.toISOString()).toBe('2026-12-05T00:00:00.000Z');
    expect(queryDateTime('2026-12-05T10:30:00.250Z', 'since')?.toISOString()).toBe(
      '2026-12-05T10:30:00.250Z',
    );
    expect(queryDateTime('2026-12-05T10:30:00+01:00', 'since')?.toISOString()).toBe(
      '2026-12-05T09:30:00.000Z',
    );
  });

  it.each(['5', 'yesterday', 'Dec 5 2026', '2026-13-01', '2026-12-05T25:00:00Z', ''])(
    'answers %j with a 400 naming the parameter',
    (value) => {
      let error: unknown;
      try {
        queryDateTime(value, 'since');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BadRequestException);
      expect((error as BadRequestException).getResponse()).toMatchObject({
        issues: [{ path: '/since', reason: 'an ISO 8601 date-time' }],
      });
    },
  );
});
