import type { TimeWindow } from '../api/types';

/**
 * Opsgenie's time restrictions (src/oncall/time-restriction-input.ts) in plain words. A `time-of-day`
 * window repeats every day (an end at or before its start ends the next day); a `weekday-and-time-of-day`
 * window runs from its start day and time to the next end day and time, so Monday 09:00 → Friday 17:00 is
 * one stretch, nights included. Office hours are so five windows of one day each, which read back as
 * "Mon–Fri 09:00–17:00".
 */

export interface TimeRestriction {
  type: 'time-of-day' | 'weekday-and-time-of-day';
  restriction?: TimeWindow;
  restrictions?: TimeWindow[];
}

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const SHORT: Record<Weekday, string> = {
  monday: 'Mon',
  tuesday: 'Tue',
  wednesday: 'Wed',
  thursday: 'Thu',
  friday: 'Fri',
  saturday: 'Sat',
  sunday: 'Sun',
};

const pad = (n: number) => String(n).padStart(2, '0');
export const clock = (hour: number, minute = 0) => `${pad(hour)}:${pad(minute)}`;

/** Its windows, whichever of Opsgenie's two forms it came in. */
export function windowsOf(restriction: TimeRestriction): TimeWindow[] {
  return restriction.restrictions ?? (restriction.restriction ? [restriction.restriction] : []);
}

const dayIndex = (day: string | undefined) => WEEKDAYS.indexOf(day as Weekday);
const minutes = (hour: number, minute: number | undefined) => hour * 60 + (minute ?? 0);
const dayName = (day: string | undefined) => SHORT[day as Weekday] ?? day ?? '?';

/** A window that starts and ends on one day, later the same day: office hours of one day. */
function withinOneDay(w: TimeWindow): boolean {
  return (
    w.startDay !== undefined &&
    w.startDay === w.endDay &&
    minutes(w.endHour, w.endMin) > minutes(w.startHour, w.startMin)
  );
}

/** "Mon–Fri", "Sat, Sun", "Mon, Wed, Fri": runs of three days or more with a dash. */
function daysSummary(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const day of sorted) {
    const run = runs.at(-1);
    if (run && run.at(-1) === day - 1) run.push(day);
    else runs.push([day]);
  }
  return runs
    .map((run) =>
      run.length >= 3
        ? `${dayName(WEEKDAYS[run[0] ?? 0])}–${dayName(WEEKDAYS[run.at(-1) ?? 0])}`
        : run.map((d) => dayName(WEEKDAYS[d])).join(', '),
    )
    .join(', ');
}

function weeklySummary(windows: TimeWindow[]): string {
  // Days that share their hours are named together, in the order their hours first appear.
  const groups = new Map<string, number[]>();
  const parts: { key?: string; text?: string }[] = [];
  for (const w of windows) {
    if (withinOneDay(w) && dayIndex(w.startDay) >= 0) {
      const key = `${clock(w.startHour, w.startMin)}–${clock(w.endHour, w.endMin)}`;
      const days = groups.get(key);
      if (days) days.push(dayIndex(w.startDay));
      else {
        groups.set(key, [dayIndex(w.startDay)]);
        parts.push({ key });
      }
    } else {
      const sameStart = w.startDay === w.endDay;
      parts.push({
        text: `${dayName(w.startDay)} ${clock(w.startHour, w.startMin)} – ${sameStart ? 'next ' : ''}${dayName(w.endDay)} ${clock(w.endHour, w.endMin)}`,
      });
    }
  }
  return parts.map((p) => (p.key ? `${daysSummary(groups.get(p.key) ?? [])} ${p.key}` : p.text)).join(', ');
}

/** "Mon–Fri 09:00–17:00", "every day 22:00–06:00", or "at any time" without a restriction. */
export function timeRestrictionSummary(restriction: TimeRestriction | null | undefined): string {
  if (!restriction) return 'at any time';
  const windows = windowsOf(restriction);
  if (restriction.type === 'time-of-day') {
    return `every day ${windows.map((w) => `${clock(w.startHour, w.startMin)}–${clock(w.endHour, w.endMin)}`).join(', ')}`;
  }
  return weeklySummary(windows);
}

/** "Mon–Fri 09:00–17:00 (Europe/Berlin)", or "At any time": a restriction with the zone it is read in. */
export function timeRestrictionSentence(
  restriction: TimeRestriction | null | undefined,
  timezone: string | undefined,
): string {
  if (!restriction) return 'At any time';
  const words = timeRestrictionSummary(restriction);
  return `${words[0]?.toUpperCase() ?? ''}${words.slice(1)} (${timezone ?? 'UTC'})`;
}
