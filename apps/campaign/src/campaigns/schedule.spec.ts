import { changedSchedule, inActivePeriod, scheduleOf, scheduleProblem } from './schedule';

const quietHours = { start: '21:00', end: '08:00', timeZone: 'Asia/Seoul' };

describe('campaign schedule', () => {
  it('sends only within its active period', () => {
    const period = { startsAt: '2026-12-01T00:00:00Z', endsAt: '2026-12-31T00:00:00Z' };
    expect(inActivePeriod(period, new Date('2026-11-30T23:59:59Z'))).toBe(false);
    expect(inActivePeriod(period, new Date('2026-12-01T00:00:00Z'))).toBe(true);
    expect(inActivePeriod(period, new Date('2026-12-30T23:59:59Z'))).toBe(true);
    expect(inActivePeriod(period, new Date('2026-12-31T00:00:00Z'))).toBe(false);
    expect(inActivePeriod({}, new Date())).toBe(true);
    expect(inActivePeriod({ quietHours }, new Date())).toBe(true);
  });

  it('applies changes part by part, null removing one', () => {
    const current = { quietHours, endsAt: '2026-12-31T00:00:00Z' };
    expect(changedSchedule(current, { startsAt: '2026-12-01T00:00:00Z', endsAt: null })).toEqual({
      quietHours,
      startsAt: '2026-12-01T00:00:00Z',
    });
    expect(changedSchedule(current, { quietHours: undefined })).toEqual(current);
    expect(changedSchedule(current, { quietHours: null, endsAt: null })).toEqual({});
  });

  it('refuses an end that is not after the start, or quiet hours it cannot apply', () => {
    expect(scheduleProblem({ startsAt: '2026-12-02T00:00:00Z', endsAt: '2026-12-01T00:00:00Z' })).toEqual([
      '/endsAt',
      'must be after startsAt (2026-12-02T00:00:00Z)',
    ]);
    expect(scheduleProblem({ quietHours: { ...quietHours, end: '21:00' } })?.[0]).toBe('/quietHours/end');
    expect(scheduleProblem({ quietHours, startsAt: '2026-12-01T00:00:00Z' })).toBeUndefined();
  });

  it('reads a stored schedule, counting one that fails its checks as none', () => {
    expect(scheduleOf(null)).toEqual({});
    expect(scheduleOf({ quietHours })).toEqual({ quietHours });
    expect(scheduleOf({ quietHours: { ...quietHours, timeZone: 'Nowhere/City' } })).toEqual({});
    expect(scheduleOf({ cron: '* * * * *' })).toEqual({});
  });
});
