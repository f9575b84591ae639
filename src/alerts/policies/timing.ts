import type { Zone } from 'luxon';
import { Type } from 'typebox';
import { DomainError } from '../../errors.js';
import type { TimeRestriction } from '../../oncall/model.js';
import { checkTimezone, toTimeRestriction } from '../../oncall/routing/service.js';
import { withinTimeRestriction } from '../../oncall/schedule.js';
import { DAY_MS, HOUR_MS } from '../../oncall/schedule/durations.js';
import { localDay, toLocal, wallClock } from '../../oncall/schedule/wall-clock.js';
import { zoneNamed } from '../../oncall/schedule/zones.js';
import {
  presentTimeRestriction,
  restrictsNothing,
  TimeRestrictionSchema,
  type TimeRestrictionInput,
} from '../../oncall/time-restriction-input.js';

/**
 * When a policy (of either kind) applies, and when a delay until a time of day ends. Both read the time in
 * the policy's `timezone` (a Vigil field: Opsgenie reads them in the account's zone, which Vigil does not
 * have; UTC when left out). The restrictions themselves are the routing rules' and schedules' own
 * (oncall/schedule.ts): checked and evaluated there.
 */

export const PolicyTimingFields = {
  timeRestrictions: Type.Optional(
    Type.Union([TimeRestrictionSchema, Type.Null()], {
      description:
        'The policy applies only inside it (read in timezone): an alert policy to alerts created inside it, a notification policy to alerts that reach its team inside it (at their creation, or when the team is added as a responder); left out, at all times',
    }),
  ),
  timezone: Type.Optional(
    Type.String({
      maxLength: 64,
      description:
        'IANA zone the time restriction and a delay until a time of day are read in (Vigil’s own field; UTC when left out)',
    }),
  ),
};

export interface PolicyTiming {
  timeRestriction: TimeRestriction | null;
  timezone: string;
}

/** The body's timing checked; problems (field → message) are added to `problems` rather than thrown. */
export function parsePolicyTiming(
  body: { timeRestrictions?: TimeRestrictionInput | null; timezone?: string },
  problems: Record<string, string>,
): PolicyTiming {
  const timezone = body.timezone ?? 'UTC';
  const timing: PolicyTiming = { timeRestriction: null, timezone };
  try {
    checkTimezone(timezone);
  } catch (error) {
    problems.timezone = reason(error);
    return timing;
  }
  const input = body.timeRestrictions;
  if (!input || restrictsNothing(input)) return timing;
  try {
    timing.timeRestriction = toTimeRestriction(input, timezone, 'timeRestrictions');
  } catch (error) {
    if (error instanceof DomainError && error.fields) Object.assign(problems, error.fields);
    else problems.timeRestrictions = reason(error);
  }
  return timing;
}

function reason(error: unknown): string {
  if (error instanceof DomainError) return Object.values(error.fields ?? {})[0] ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** The stored columns' values. */
export function timingValues(timing: PolicyTiming) {
  return {
    time_restriction: timing.timeRestriction ? JSON.stringify(timing.timeRestriction) : null,
    timezone: timing.timezone,
  };
}

/**
 * As GET shows it: the restriction absent when the policy always applies (so Terraform reads back what it
 * wrote), the time zone whenever it is not UTC, since a `next-*` delay reads its time in it too: a GET
 * then PUT must not move the policy to UTC.
 */
export function presentTiming(row: { time_restriction: TimeRestriction | null; timezone: string }) {
  return {
    ...(row.time_restriction ? { timeRestrictions: presentTimeRestriction(row.time_restriction) } : {}),
    ...(row.time_restriction || row.timezone !== 'UTC' ? { timezone: row.timezone } : {}),
  };
}

/**
 * Whether a policy with this timing applies at `at`: an alert policy to an alert created then, a notification
 * policy to an alert that reached its team then.
 */
export function appliesAt(timing: PolicyTiming, at: Date): boolean {
  if (!timing.timeRestriction) return true;
  try {
    return withinTimeRestriction(timing.timeRestriction, timing.timezone, at);
  } catch {
    // Checked when saved; a restriction that no longer evaluates (a zone gone from the database) never holds.
    return false;
  }
}

export const WEEKDAY_OPTIONS = {
  'next-monday': 1,
  'next-tuesday': 2,
  'next-wednesday': 3,
  'next-thursday': 4,
  'next-friday': 5,
  'next-saturday': 6,
  'next-sunday': 7,
} as const;

export type UntilOption = 'next-time' | 'next-weekday' | keyof typeof WEEKDAY_OPTIONS;

/**
 * The first moment after `from` that is `hour:minute` in `timezone` on a day the option allows: any day
 * (next-time), Monday to Friday (next-weekday), or that weekday. A time the clocks skip that day (a DST
 * gap) moves on by the time skipped (2:30 becomes 3:30); one they repeat (the fall back) is its first
 * occurrence, or its second when `from` lies between the two. Resolved as schedules resolve wall-clock
 * times (oncall/schedule/wall-clock.ts): luxon's DateTime.fromObject picks a repeated time's offset by the
 * real date today, not by its inputs.
 */
export function nextUntil(
  option: UntilOption,
  hour: number,
  minute: number,
  timezone: string,
  from: Date,
): Date {
  const allowed = (weekday: number) =>
    option === 'next-time'
      ? true
      : option === 'next-weekday'
        ? weekday <= 5
        : weekday === WEEKDAY_OPTIONS[option];
  // Checked when saved; a zone gone from the database leaves the fallback below.
  const zone = zoneNamed(timezone);
  if (zone) {
    const firstDay = localDay(zone, from.getTime());
    for (let days = 0; days <= 8; days++) {
      const day = firstDay + days * DAY_MS;
      // ISO weekday (Monday 1 … Sunday 7) of the local date.
      const weekday = ((new Date(day).getUTCDay() + 6) % 7) + 1;
      if (!allowed(weekday)) continue;
      const candidate = wallClock(zone, day, hour, minute);
      if (candidate > from.getTime()) return new Date(candidate);
      // `from` may fall in a repeated hour after the time's first occurrence: its second one is still ahead.
      const again = repeated(zone, day + hour * HOUR_MS + minute * 60_000, candidate);
      if (again !== undefined && again > from.getTime()) return new Date(again);
    }
  }
  // Unreachable with a known zone: every weekday comes within eight days.
  return new Date(from.getTime() + 7 * DAY_MS);
}

/**
 * The second occurrence of the wall-clock time `local` (epoch milliseconds "as if UTC") whose first is
 * `first`, when the clocks go back over it that day; undefined when it occurs once (or not at all).
 */
function repeated(zone: Zone, local: number, first: number): number | undefined {
  const back = (zone.offset(local - DAY_MS) - zone.offset(local + DAY_MS)) * 60_000;
  if (back <= 0) return undefined;
  const again = first + back;
  return toLocal(zone, again) === local ? again : undefined;
}
