import type { QuietHours } from '@cdp/contracts';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;

/** Wall-clock formatters by time zone: making one costs far more than using it. */
const clocks = new Map<string, Intl.DateTimeFormat>();

/** The hour-and-minute formatter of `timeZone`; throws a RangeError for a zone the runtime does not know. */
function clockOf(timeZone: string): Intl.DateTimeFormat {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
    });
    clocks.set(timeZone, clock);
  }
  return clock;
}

/** Whether `timeZone` is an IANA time zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone === '') return false;
  try {
    clockOf(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** A customer's own time zone: their `timezone` trait (Segment's context.timezone), if it is a known one. */
export function customerTimeZone(traits: Record<string, unknown>): string | undefined {
  const { timezone } = traits;
  return typeof timezone === 'string' && isTimeZone(timezone) ? timezone : undefined;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight of `at` in `timeZone`. */
function localMinutes(at: Date, timeZone: string): number {
  const parts = clockOf(timeZone).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** What is wrong with a campaign's quiet hours, as [field path, reason], if anything. */
export function quietHoursProblem(quiet: QuietHours): [string, string] | undefined {
  if (!isTimeZone(quiet.timeZone))
    return ['/quietHours/timeZone', `not an IANA time zone: ${quiet.timeZone}`];
  if (quiet.start === quiet.end) return ['/quietHours/end', 'must differ from start'];
  return undefined;
}

/**
 * When the quiet period that `now` falls in ends (the first minute the campaign may send again),
 * or undefined if `now` is outside it; in `timeZone` (the customer's, else the campaign's). Across
 * a daylight-saving change the end is found again in local time; an end the change skips (02:30 on
 * a spring-forward night) becomes the first minute after the gap.
 */
export function quietUntil(
  now: Date,
  quiet: QuietHours,
  timeZone: string = quiet.timeZone,
): Date | undefined {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const inside = (at: Date) => {
    const local = localMinutes(at, timeZone);
    return start < end ? local >= start && local < end : local >= start || local < end;
  };
  if (!inside(now)) return undefined;
  const minuteStart = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  const ahead = (end - localMinutes(now, timeZone) + DAY_MINUTES) % DAY_MINUTES;
  const naive = new Date(minuteStart + ahead * MINUTE_MS);
  // A daylight-saving change in between moves local time by its size: correct by the difference.
  const drift = ((end - localMinutes(naive, timeZone) + DAY_MINUTES * 1.5) % DAY_MINUTES) - DAY_MINUTES / 2;
  const corrected = new Date(naive.getTime() + drift * MINUTE_MS);
  if (localMinutes(corrected, timeZone) === end && corrected > now) return corrected;
  // The change skipped the end: walk back from the naive end (after the gap) to the gap's edge.
  let until = naive;
  for (let i = 0; i < 180 && !inside(new Date(until.getTime() - MINUTE_MS)); i++)
    until = new Date(until.getTime() - MINUTE_MS);
  return until;
}
