import { CampaignSchedule, validate } from '@cdp/contracts';
import { quietHoursProblem } from './quiet-hours';

/** Changes to a schedule: a part given replaces the stored one, `null` removes it. */
export type ScheduleChanges = { [K in keyof CampaignSchedule]?: CampaignSchedule[K] | null };

/** What is wrong with a schedule, as [field path, reason], if anything. */
export function scheduleProblem(schedule: CampaignSchedule): [string, string] | undefined {
  if (schedule.quietHours) {
    const problem = quietHoursProblem(schedule.quietHours);
    if (problem) return problem;
  }
  if (schedule.startsAt && schedule.endsAt && Date.parse(schedule.endsAt) <= Date.parse(schedule.startsAt))
    return ['/endsAt', `must be after startsAt (${schedule.startsAt})`];
  return undefined;
}

/** A stored campaign's schedule; one stored before its checks existed that fails them counts as none. */
export function scheduleOf(stored: unknown): CampaignSchedule {
  if (stored === null || stored === undefined) return {};
  const checked = validate(CampaignSchedule, stored);
  return checked.ok && !scheduleProblem(checked.value) ? checked.value : {};
}

/** The schedule after `changes`. */
export function changedSchedule(current: CampaignSchedule, changes: ScheduleChanges): CampaignSchedule {
  const next: Record<string, unknown> = { ...current };
  for (const [part, value] of Object.entries(changes)) {
    if (value === null) delete next[part];
    else if (value !== undefined) next[part] = value;
  }
  return next;
}

/** Whether `now` is within the campaign's active period (from startsAt, before endsAt). */
export function inActivePeriod(schedule: CampaignSchedule, now = new Date()): boolean {
  if (schedule.startsAt && now.getTime() < Date.parse(schedule.startsAt)) return false;
  return !(schedule.endsAt && now.getTime() >= Date.parse(schedule.endsAt));
}
