import { customerTimeZone, isTimeZone, quietHoursProblem, quietUntil } from './quiet-hours';

const night = { start: '21:00', end: '08:00', timeZone: 'Asia/Seoul' };

describe('quiet hours', () => {
  it('holds a send inside a period that spans midnight until its end, in the time zone', () => {
    // 22:30 in Seoul (UTC+9) -> 08:00 the next morning.
    expect(quietUntil(new Date('2026-12-06T13:30:00Z'), night)?.toISOString()).toBe(
      '2026-12-06T23:00:00.000Z',
    );
    // 03:15 in Seoul -> 08:00 the same morning.
    expect(quietUntil(new Date('2026-12-06T18:15:42Z'), night)?.toISOString()).toBe(
      '2026-12-06T23:00:00.000Z',
    );
  });

  it('lets a send outside the period go at once', () => {
    expect(quietUntil(new Date('2026-12-06T03:00:00Z'), night)).toBeUndefined(); // 12:00 in Seoul
    expect(quietUntil(new Date('2026-12-06T23:00:00Z'), night)).toBeUndefined(); // 08:00 sharp: ended
    expect(quietUntil(new Date('2026-12-06T11:59:59Z'), night)).toBeUndefined(); // 20:59:59
    expect(quietUntil(new Date('2026-12-06T12:00:00Z'), night)).toBeDefined(); // 21:00: started
  });

  it('handles a period within one day', () => {
    const lunch = { start: '12:00', end: '13:30', timeZone: 'UTC' };
    expect(quietUntil(new Date('2026-12-06T12:45:00Z'), lunch)?.toISOString()).toBe(
      '2026-12-06T13:30:00.000Z',
    );
    expect(quietUntil(new Date('2026-12-06T13:30:00Z'), lunch)).toBeUndefined();
    expect(quietUntil(new Date('2026-12-06T11:00:00Z'), lunch)).toBeUndefined();
  });

  it("uses the customer's time zone when given", () => {
    // 22:30 in Seoul is 14:30 in Berlin (UTC+1 in December): outside the period there.
    expect(quietUntil(new Date('2026-12-06T13:30:00Z'), night, 'Europe/Berlin')).toBeUndefined();
    // 23:00 in Berlin -> 08:00 Berlin time.
    expect(quietUntil(new Date('2026-12-06T22:00:00Z'), night, 'Europe/Berlin')?.toISOString()).toBe(
      '2026-12-07T07:00:00.000Z',
    );
  });

  it('ends at local time across a daylight-saving change', () => {
    // Berlin springs forward on 2026-03-29 at 02:00 (UTC+1 -> UTC+2): 23:00 local -> 08:00 CEST.
    expect(
      quietUntil(new Date('2026-03-28T22:00:00Z'), { ...night, timeZone: 'Europe/Berlin' })?.toISOString(),
    ).toBe('2026-03-29T06:00:00.000Z');
    // An end the change skips (02:30 CET does not exist) becomes the first minute after the gap:
    // 03:00 CEST, 01:00Z.
    const gap = { start: '00:00', end: '02:30', timeZone: 'Europe/Berlin' };
    expect(quietUntil(new Date('2026-03-28T23:30:00Z'), gap)?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    // Falling back (2026-10-25, 03:00 CEST -> 02:00 CET): 23:00 CEST -> 08:00 CET.
    expect(
      quietUntil(new Date('2026-10-24T21:00:00Z'), { ...night, timeZone: 'Europe/Berlin' })?.toISOString(),
    ).toBe('2026-10-25T07:00:00.000Z');
  });

  it('refuses a time zone it does not know and an empty period, with the field path', () => {
    expect(isTimeZone('Asia/Seoul')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(customerTimeZone({ timezone: 'Europe/Berlin' })).toBe('Europe/Berlin');
    expect(customerTimeZone({ timezone: 42 })).toBeUndefined();
    expect(customerTimeZone({ timezone: 'Mars/Olympus' })).toBeUndefined();
    expect(customerTimeZone({})).toBeUndefined();
    expect(quietHoursProblem({ ...night, timeZone: 'Mars/Olympus' })).toEqual([
      '/quietHours/timeZone',
      'not an IANA time zone: Mars/Olympus',
    ]);
    expect(quietHoursProblem({ ...night, end: '21:00' })).toEqual([
      '/quietHours/end',
      'must differ from start',
    ]);
    expect(quietHoursProblem(night)).toBeUndefined();
  });
});
