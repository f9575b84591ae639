/**
 * What makes a schedule or a time restriction usable, worded for the person who wrote it: every problem is
 * collected, not only the first, so that an API answer or an import can list them all at once. The computing
 * functions refuse a schedule with any of them, so the arithmetic can trust what it is given.
 */
import { DateTime } from 'luxon';
import {
  ROTATIONS_COMBINE_MODES,
  WEEKDAYS,
  type RotationType,
  type Schedule,
  type TimeRestriction,
} from './types.js';
import { zoneNamed } from './zones.js';

const ROTATION_TYPES: readonly RotationType[] = ['hourly', 'daily', 'weekly', 'custom'];
const RESTRICTION_TYPES: readonly TimeRestriction['type'][] = ['time-of-day', 'weekday-and-time-of-day'];
const OFFSET_SUFFIX = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** luxon's ISO instants always have their time after a T (a date alone ends in "-23", like an offset). */
const HAS_TIME = /T/i;

/** toISOString()'s form in the years 0000-9999, which luxon and Date.parse read alike. */
const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const parsedInstants = new Map<string, number | 'invalid' | 'no-time' | 'no-offset'>();

/** luxon's ISO parse of an instant, memoised: the same few strings are parsed on every call. */
function parseIso(value: string): number | 'invalid' | 'no-time' | 'no-offset' {
  // Stored schedules come as toISOString() gives them; those read the same either way, and a schedule
  // with more of them than the memo holds would otherwise go through luxon for every one on every call.
  const ms = CANONICAL_UTC.test(value) ? Date.parse(value) : NaN;
  if (!Number.isNaN(ms) && new Date(ms).toISOString() === value) return ms;
  let parsed = parsedInstants.get(value);
  if (parsed === undefined) {
    const dt = DateTime.fromISO(value, { setZone: true });
    parsed = !dt.isValid
      ? 'invalid'
      : !HAS_TIME.test(value)
        ? 'no-time'
        : OFFSET_SUFFIX.test(value)
          ? dt.toMillis()
          : 'no-offset';
    if (parsedInstants.size >= 10_000) parsedInstants.clear();
    parsedInstants.set(value, parsed);
  }
  return parsed;
}

/** Parses an ISO instant; returns the epoch milliseconds, or a problem phrased for a person. */
export function parseInstant(value: unknown, what: string): number | string {
  if (typeof value !== 'string' || value.trim() === '') {
    return `${what} is missing; give an ISO 8601 instant such as "2026-03-23T08:00:00Z"`;
  }
  const parsed = parseIso(value);
  if (parsed === 'invalid') {
    return `${what} "${value}" is not a valid ISO 8601 date-time; use a form such as "2026-03-23T09:00:00+01:00"`;
  }
  if (parsed === 'no-time') {
    // Read as midnight in the server's own zone, which would move with wherever Vigil runs.
    return `${what} "${value}" is a date without a time; give an instant such as "${value}T00:00:00Z"`;
  }
  if (parsed === 'no-offset') {
    return `${what} "${value}" has no UTC offset; end it with "Z" or an offset such as "+01:00"`;
  }
  return parsed;
}

function isWholeNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function describeValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

export function validateRestriction(restriction: TimeRestriction, label: string, problems: string[]): void {
  if (!RESTRICTION_TYPES.includes(restriction.type)) {
    problems.push(
      `${label}: time restriction type must be "time-of-day" or "weekday-and-time-of-day" (got ${describeValue(restriction.type)})`,
    );
    return;
  }
  if (!Array.isArray(restriction.restrictions) || restriction.restrictions.length === 0) {
    problems.push(
      `${label}: the time restriction has no windows; add at least one or remove the time restriction`,
    );
    return;
  }
  restriction.restrictions.forEach((window, i) => {
    const where = `${label}: time restriction window ${i + 1}`;
    for (const field of ['startHour', 'endHour'] as const) {
      if (!isWholeNumberIn(window[field], 0, 23)) {
        problems.push(
          `${where}: ${field} must be a whole number from 0 to 23 (got ${describeValue(window[field])})`,
        );
      }
    }
    for (const field of ['startMin', 'endMin'] as const) {
      if (!isWholeNumberIn(window[field], 0, 59)) {
        problems.push(
          `${where}: ${field} must be a whole number from 0 to 59 (got ${describeValue(window[field])})`,
        );
      }
    }
    for (const field of ['startDay', 'endDay'] as const) {
      const day = window[field];
      if (restriction.type === 'weekday-and-time-of-day') {
        if (day === undefined || !WEEKDAYS.includes(day)) {
          problems.push(
            `${where}: ${field} must be one of ${WEEKDAYS.join(', ')} for a weekday-and-time-of-day restriction (got ${describeValue(day)})`,
          );
        }
      } else if (day !== undefined) {
        problems.push(
          `${where}: ${field} is not used by a time-of-day restriction; remove it or use the weekday-and-time-of-day type`,
        );
      }
    }
  });
}

/**
 * Problems a person can act on, one sentence each; an empty array means the schedule is usable.
 */
export function validateSchedule(schedule: Schedule): string[] {
  const problems: string[] = [];
  if (!zoneNamed(schedule.timezone)) {
    problems.push(
      `timezone ${describeValue(schedule.timezone)} is not a known IANA time zone; use a name such as "Europe/Berlin" or "America/New_York"`,
    );
  }
  if (
    schedule.rotationsCombine !== undefined &&
    !ROTATIONS_COMBINE_MODES.includes(schedule.rotationsCombine)
  ) {
    problems.push(
      `rotationsCombine must be "all" or "layers" (got ${describeValue(schedule.rotationsCombine)})`,
    );
  }
  const rotations = Array.isArray(schedule.rotations) ? schedule.rotations : [];
  if (!Array.isArray(schedule.rotations)) problems.push('rotations must be a list (it may be empty)');
  const seenIds = new Set<string>();
  rotations.forEach((rotation, i) => {
    const label = `rotation ${i + 1}${typeof rotation.name === 'string' && rotation.name !== '' ? ` "${rotation.name}"` : ''}`;
    if (typeof rotation.id !== 'string' || rotation.id === '') {
      problems.push(`${label}: id is missing`);
    } else if (seenIds.has(rotation.id)) {
      problems.push(`${label}: id "${rotation.id}" is used by another rotation; rotation ids must be unique`);
    } else {
      seenIds.add(rotation.id);
    }
    if (!ROTATION_TYPES.includes(rotation.type)) {
      problems.push(
        `${label}: type must be one of ${ROTATION_TYPES.join(', ')} (got ${describeValue(rotation.type)})`,
      );
    }
    if (!isWholeNumberIn(rotation.length, 1, Number.MAX_SAFE_INTEGER)) {
      const unit = rotation.type === 'custom' ? 'hours' : 'units';
      problems.push(
        `${label}: length must be a whole number of ${unit}, at least 1 (got ${describeValue(rotation.length)})`,
      );
    }
    if (!Array.isArray(rotation.participants)) {
      problems.push(`${label}: participants must be a list of user ids (it may be empty)`);
    } else {
      rotation.participants.forEach((user, j) => {
        if (user !== null && (typeof user !== 'string' || user === '')) {
          problems.push(`${label}: participant ${j + 1} has no user id`);
        }
      });
    }
    const start = parseInstant(rotation.startDate, `${label}: startDate`);
    if (typeof start === 'string') problems.push(start);
    if (rotation.endDate !== undefined) {
      const end = parseInstant(rotation.endDate, `${label}: endDate`);
      if (typeof end === 'string') problems.push(end);
      else if (typeof start === 'number' && end <= start) {
        problems.push(`${label}: endDate ${rotation.endDate} must be after startDate ${rotation.startDate}`);
      }
    }
    if (rotation.timeRestriction !== undefined)
      validateRestriction(rotation.timeRestriction, label, problems);
  });
  const overrides = Array.isArray(schedule.overrides) ? schedule.overrides : [];
  if (!Array.isArray(schedule.overrides)) problems.push('overrides must be a list (it may be empty)');
  overrides.forEach((override, i) => {
    const label = `override ${i + 1}`;
    if (override.user !== null && (typeof override.user !== 'string' || override.user === '')) {
      problems.push(`${label}: user is missing`);
    }
    const start = parseInstant(override.startDate, `${label}: startDate`);
    if (typeof start === 'string') problems.push(start);
    const end = parseInstant(override.endDate, `${label}: endDate`);
    if (typeof end === 'string') problems.push(end);
    if (typeof start === 'number' && typeof end === 'number' && end <= start) {
      problems.push(`${label}: endDate ${override.endDate} must be after startDate ${override.startDate}`);
    }
    if (override.rotationIds !== undefined) {
      if (!Array.isArray(override.rotationIds) || override.rotationIds.length === 0) {
        problems.push(
          `${label}: rotationIds is empty; list rotation ids, or leave it out to override every rotation`,
        );
      } else {
        for (const id of override.rotationIds) {
          if (!rotations.some((r) => r.id === id)) {
            problems.push(`${label}: rotation ${describeValue(id)} does not exist in this schedule`);
          }
        }
      }
    }
  });
  return problems;
}
