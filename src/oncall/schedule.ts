/**
 * The pure computation core of on-call schedules: who is on call at an instant, who is next and who was
 * before, and the timeline of a window; and whether an instant falls in a time restriction (routing rules use
 * it on its own). No database, no HTTP; every function takes a {@link Schedule} value.
 *
 * Rules (see also the tests, which pin each of them with hand-worked instants):
 *
 * - Handoffs. Shift 0 starts exactly at `startDate`. For `daily`/`weekly` rotations, shift k starts at the
 *   wall-clock time of `startDate` (in the schedule's zone), k·length days/weeks later, so a Monday 09:00
 *   handoff stays at Monday 09:00 local across DST changes (shifts of 167 h or 169 h). For `hourly` and
 *   `custom` rotations, shift k starts k·length hours of elapsed time after `startDate` (so their wall-clock
 *   time moves by an hour across a DST change).
 * - Wall-clock times that do not exist (a spring-forward gap, e.g. 02:30 on 2026-03-08 in New York) are moved
 *   forward by the length of the gap: 02:30 becomes 03:30 EDT. This applies to handoffs and to the bounds of
 *   time-restriction windows alike; the next day's handoff is back at 02:30.
 * - Wall-clock times that happen twice (a fall-back overlap, e.g. 01:30 on 2026-11-01 in New York) resolve to
 *   the first occurrence (01:30 EDT), whatever the offset of `startDate`. A `startDate` that is itself the
 *   second occurrence is kept as given (it is an instant); only later handoffs are resolved this way.
 * - Shift k belongs to `participants[k % participants.length]`; a rotation without participants has nobody,
 *   and a `null` participant (Opsgenie's `none`) is a turn with nobody in that layer, as outside a restriction.
 * - Participants are keys compared only for equality: user ids, or whatever else the caller is on call
 *   through (src/oncall/schedules/participants.ts adds teams and escalations). `user` in results is that key.
 * - A rotation has nobody before `startDate` and from `endDate` on.
 * - Time restrictions cut shifts down to their windows (wall-clock, in the schedule's zone); outside them the
 *   layer has nobody. Several windows are united. A `time-of-day` window whose end is at or before its start
 *   ends the next day (22:00–06:00; 09:00–09:00 is a whole day). A `weekday-and-time-of-day` window runs from
 *   `startDay` start time to the next `endDay` end time (Monday 09:00 → Friday 17:00 is one continuous window;
 *   a window ending on its start day at or before its start time lasts a whole week).
 * - Combining rotations (`rotationsCombine`, a Vigil extension; absent means "all"):
 *   - "all" (Opsgenie's cumulative schedules): everyone every rotation has at an instant is on call at once,
 *     each once (one entry per person: `rotationId` is kept only if they are there through a single rotation,
 *     `override: true` only if every way they are there is an override). Results list them in rotation order
 *     (lowest index first), by the first rotation that has them.
 *   - "layers" (PagerDuty-style): at an instant the last rotation (highest index) that has someone wins, so
 *     at most one person is on call.
 * - Overrides, half-open [startDate, endDate), the same in both modes:
 *   - without `rotationIds`: the override user is on call for the whole window, replacing everyone the
 *     rotations have (in "all" mode too: they are the only one on call), even where no rotation has anyone
 *     (rotationId is then absent, override is true);
 *   - with `rotationIds`: the override user replaces the person of those rotations' shifts in the window, only
 *     where that rotation has someone (restrictions, start/end and empty participants still apply). Rotations
 *     are then combined as usual: in "layers" mode a higher layer with someone still wins over an overridden
 *     lower layer; in "all" mode the other rotations' people stay on call beside the override user.
 *   - Where several overrides of the same kind overlap, the later one in `overrides` wins; an override without
 *     `rotationIds` wins over ones with them.
 * - `timeline().final` merges adjacent pieces of the same user into one shift (one merged run per person). A
 *   merged shift keeps `rotationId` only if every piece came from that rotation, and `override: true` only if
 *   every piece was an override. In "all" mode shifts of different people may overlap; they are sorted by start,
 *   then by rotation order. `timeline().rotations` lists each rotation's own shifts (time restrictions applied,
 *   overrides not), one entry per shift piece, unmerged.
 * - Next and previous on call ({@link nextOnCalls}, {@link previousOnCalls}), in both modes: the next change is
 *   the first instant T after `after` at which someone who is not on call at `after` comes on call; they (the
 *   newcomers, each with their whole stretch) are the next on call, and everyone on call at T (newcomers and
 *   those who stay on) is the "exact" next set, as Opsgenie's next-on-calls lists nextOnCallRecipients and
 *   exactNextOnCallRecipients. People merely going off call are no change. The previous ones mirror it: the last
 *   instant T at or before `at` at which someone who is not on call at `at` went off call; those whose stretch
 *   ended at T. In "layers" mode there is one newcomer (and one previous), as {@link nextOnCall} returns.
 * - All instants in and out are ISO 8601 strings; inputs must carry "Z" or an offset. Outputs are UTC ('Z').
 *   The computing functions throw a RangeError listing the problems of an invalid schedule (those that
 *   {@link validateSchedule} reports) or of an invalid Date argument.
 *
 * Implementation: luxon supplies the zone rules (an IANAZone whose offsets are memoised per UTC day) and ISO
 * parsing. Daily/weekly handoffs and window bounds are local wall-clock times (epoch milliseconds "as if UTC"
 * plus whole days) resolved to instants by the rules above; the tests check them against luxon's DateTime#plus
 * in a range of zones. The shift at an instant is found arithmetically (hourly/custom) or by an estimate from
 * the nominal period corrected by a step or two (daily/weekly), never by walking from startDate.
 */
import { DateTime, IANAZone, type Zone } from 'luxon';

export type RotationType = 'hourly' | 'daily' | 'weekly' | 'custom';
export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

export interface TimeRestriction {
  /**
   * `time-of-day`: every day from startHour:startMin to endHour:endMin in the schedule's zone (end <= start
   * crosses midnight). `weekday-and-time-of-day`: from startDay startHour:startMin to the next endDay
   * endHour:endMin (e.g. Monday 09:00 to Friday 17:00).
   */
  type: 'time-of-day' | 'weekday-and-time-of-day';
  restrictions: {
    startDay?: Weekday;
    startHour: number;
    startMin: number;
    endDay?: Weekday;
    endHour: number;
    endMin: number;
  }[];
}

export interface Rotation {
  id: string;
  name: string;
  type: RotationType;
  /** Units per shift (weekly length 2 = two weeks); for 'custom', hours. */
  length: number;
  /**
   * Participant keys (user ids, see the header) in turn order; null is a turn with nobody on call. May be
   * empty (nobody on call in this layer).
   */
  participants: (string | null)[];
  /** ISO instant: the first handoff; the rotation has no shifts before it. */
  startDate: string;
  /** ISO instant: the rotation has no shifts from it on. */
  endDate?: string;
  timeRestriction?: TimeRestriction;
}

/** Replaces whoever is on call (in the given rotations, or in the final result) in [startDate, endDate). */
export interface Override {
  user: string;
  startDate: string;
  endDate: string;
  rotationIds?: string[];
}

/**
 * How a schedule's rotations make who is on call: "all" (everyone each rotation has, Opsgenie's behaviour) or
 * "layers" (the highest rotation with someone wins). See the header.
 */
export type RotationsCombine = 'all' | 'layers';

export const ROTATIONS_COMBINE_MODES: readonly RotationsCombine[] = ['all', 'layers'];

export interface Schedule {
  timezone: string;
  rotations: Rotation[];
  overrides: Override[];
  /** Absent means "all", as in Opsgenie. */
  rotationsCombine?: RotationsCombine;
}

/** [start, end), ISO instants in UTC ('Z'). */
export interface Shift {
  user: string;
  start: string;
  end: string;
  rotationId?: string;
  override?: boolean;
}

export interface OnCall {
  user: string;
  rotationId?: string;
  override?: boolean;
}

export const DEFAULT_NEXT_ON_CALL_HORIZON_DAYS = 90;
const NEXT_ON_CALL_END_SEARCH_DAYS = 366;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEKDAYS: readonly Weekday[] = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];
const ROTATION_TYPES: readonly RotationType[] = ['hourly', 'daily', 'weekly', 'custom'];
const RESTRICTION_TYPES: readonly TimeRestriction['type'][] = ['time-of-day', 'weekday-and-time-of-day'];
const OFFSET_SUFFIX = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

// ---------------------------------------------------------------------------------------------------------
// Zones
// ---------------------------------------------------------------------------------------------------------

/**
 * An IANA zone whose offsets are memoised per UTC day. luxon asks Intl for every offset (microseconds each) and
 * schedule arithmetic asks about the same few days again and again. For each UTC day this asks Intl for the
 * offsets at its two ends; if they differ, it finds the change by bisection (to the millisecond). This assumes
 * at most one offset change within a UTC day, which holds for the zones of the tz database.
 */
class DayCachedZone extends IANAZone {
  private readonly atMidnight = new Map<number, number>();
  private readonly days = new Map<number, { change: number; before: number; after: number }>();

  override offset(ts: number): number {
    if (!Number.isFinite(ts)) return super.offset(ts);
    const day = Math.floor(ts / DAY_MS);
    let entry = this.days.get(day);
    if (!entry) {
      if (this.days.size > 100_000) {
        this.days.clear();
        this.atMidnight.clear();
      }
      const before = this.midnightOffset(day);
      const after = this.midnightOffset(day + 1);
      let change = (day + 1) * DAY_MS;
      if (before !== after) {
        let lo = day * DAY_MS; // offset `before` here
        while (change - lo > 1) {
          const mid = Math.floor((lo + change) / 2);
          if (super.offset(mid) === before) lo = mid;
          else change = mid;
        }
      }
      entry = { change, before, after };
      this.days.set(day, entry);
    }
    return ts < entry.change ? entry.before : entry.after;
  }

  private midnightOffset(day: number): number {
    let offset = this.atMidnight.get(day);
    if (offset === undefined) {
      offset = super.offset(day * DAY_MS);
      this.atMidnight.set(day, offset);
    }
    return offset;
  }
}

const zoneCache = new Map<string, DayCachedZone | null>();

/** The zone of that name, or undefined if it is not a known IANA zone. */
function zoneNamed(name: unknown): DayCachedZone | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  let zone = zoneCache.get(name);
  if (zone === undefined) {
    zone = IANAZone.isValidZone(name) ? new DayCachedZone(name) : null;
    if (zoneCache.size > 1000) zoneCache.clear();
    zoneCache.set(name, zone);
  }
  return zone ?? undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

const parsedInstants = new Map<string, number | 'invalid' | 'no-offset'>();

/** luxon's ISO parse of an instant, memoised: the same few strings are parsed on every call. */
function parseIso(value: string): number | 'invalid' | 'no-offset' {
  let parsed = parsedInstants.get(value);
  if (parsed === undefined) {
    const dt = DateTime.fromISO(value, { setZone: true });
    parsed = !dt.isValid ? 'invalid' : OFFSET_SUFFIX.test(value) ? dt.toMillis() : 'no-offset';
    if (parsedInstants.size >= 10_000) parsedInstants.clear();
    parsedInstants.set(value, parsed);
  }
  return parsed;
}

/** Parses an ISO instant; returns the epoch milliseconds, or a problem phrased for a person. */
function parseInstant(value: unknown, what: string): number | string {
  if (typeof value !== 'string' || value.trim() === '') {
    return `${what} is missing; give an ISO 8601 instant such as "2026-03-23T08:00:00Z"`;
  }
  const parsed = parseIso(value);
  if (parsed === 'invalid') {
    return `${what} "${value}" is not a valid ISO 8601 date-time; use a form such as "2026-03-23T09:00:00+01:00"`;
  }
  if (parsed === 'no-offset') {
    return `${what} "${value}" has no UTC offset; end it with "Z" or an offset such as "+01:00"`;
  }
  return parsed;
}

function isWholeNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function describeValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function validateRestriction(restriction: TimeRestriction, label: string, problems: string[]): void {
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
    if (typeof override.user !== 'string' || override.user === '') problems.push(`${label}: user is missing`);
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

// ---------------------------------------------------------------------------------------------------------
// Compiled form
// ---------------------------------------------------------------------------------------------------------

interface Window {
  /** 0 = Monday … 6 = Sunday; -1 for every day. */
  startDay: number;
  startHour: number;
  startMin: number;
  /** Days from the start date to the end date of the window. */
  spanDays: number;
  endHour: number;
  endMin: number;
}

interface CompiledRestriction {
  /** How many days before an instant a window containing it may have started. */
  lookbackDays: number;
  windows: Window[];
}

interface CompiledRotation {
  id: string;
  type: RotationType;
  length: number;
  participants: (string | null)[];
  startMs: number;
  endMs: number;
  zone: Zone;
  /** The wall-clock time of startDate, "as if UTC": handoffs of daily/weekly rotations keep it. */
  localStart: number;
  restriction?: CompiledRestriction;
}

interface CompiledOverride {
  user: string;
  startMs: number;
  endMs: number;
  rotationIds?: ReadonlySet<string>;
}

interface Compiled {
  zone: Zone;
  combine: RotationsCombine;
  rotations: CompiledRotation[];
  /** Reversed, so that the first match is the winning (latest) one. */
  globalOverrides: CompiledOverride[];
  scopedOverrides: CompiledOverride[];
}

function instantOf(value: string): number {
  const ms = parseInstant(value, 'instant');
  if (typeof ms === 'string') throw new RangeError(ms);
  return ms;
}

function compileRestriction(restriction: TimeRestriction): CompiledRestriction {
  const weekly = restriction.type === 'weekday-and-time-of-day';
  const windows = restriction.restrictions.map((w): Window => {
    const startMinute = w.startHour * 60 + w.startMin;
    const endMinute = w.endHour * 60 + w.endMin;
    if (!weekly) {
      return { ...w, startDay: -1, spanDays: endMinute <= startMinute ? 1 : 0 };
    }
    const startDay = WEEKDAYS.indexOf(w.startDay ?? 'monday');
    const endDay = WEEKDAYS.indexOf(w.endDay ?? 'monday');
    let spanDays = (endDay - startDay + 7) % 7;
    if (spanDays === 0 && endMinute <= startMinute) spanDays = 7;
    return { ...w, startDay, spanDays };
  });
  return { lookbackDays: weekly ? 7 : 1, windows };
}

function compile(schedule: Schedule): Compiled {
  const problems = validateSchedule(schedule);
  if (problems.length > 0) throw new RangeError(`invalid schedule: ${problems.join('; ')}`);
  const zone = zoneNamed(schedule.timezone);
  if (!zone) throw new RangeError(`unknown time zone ${describeValue(schedule.timezone)}`);
  const rotations = schedule.rotations.map((r): CompiledRotation => {
    const startMs = instantOf(r.startDate);
    return {
      id: r.id,
      type: r.type,
      length: r.length,
      participants: r.participants,
      startMs,
      endMs: r.endDate === undefined ? Infinity : instantOf(r.endDate),
      zone,
      localStart: toLocal(zone, startMs),
      ...(r.timeRestriction ? { restriction: compileRestriction(r.timeRestriction) } : {}),
    };
  });
  const overrides = schedule.overrides
    .map((o): CompiledOverride => ({
      user: o.user,
      startMs: instantOf(o.startDate),
      endMs: instantOf(o.endDate),
      ...(o.rotationIds ? { rotationIds: new Set(o.rotationIds) } : {}),
    }))
    .reverse();
  return {
    zone,
    combine: schedule.rotationsCombine ?? 'all',
    rotations,
    globalOverrides: overrides.filter((o) => o.rotationIds === undefined),
    scopedOverrides: overrides.filter((o) => o.rotationIds !== undefined),
  };
}

function millisOf(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${what} is not a valid Date`);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------
// Wall-clock arithmetic
// ---------------------------------------------------------------------------------------------------------

/**
 * The instant at which the wall clock of `zone` shows `local` (a local date-time written as epoch milliseconds
 * "as if UTC", so that calendar arithmetic on it is plain addition). Where the zone's offset is the same a day
 * before and after, that is the only answer. Around a change:
 * - a time that happens twice (fall back) resolves to its first occurrence (the offset from before the change);
 * - a time that does not exist (spring forward) is read with the offset from before the change, which moves it
 *   forward by the length of the gap (02:30 → 03:30 for a one-hour gap), as luxon does.
 * Assumes offsets change at most once within a day either side of `local`.
 */
function resolveLocal(zone: Zone, local: number): number {
  const before = zone.offset(local - DAY_MS);
  const after = zone.offset(local + DAY_MS);
  const first = local - before * 60_000;
  if (before === after) return first;
  const second = local - after * 60_000;
  const firstExists = zone.offset(first) === before;
  const secondExists = zone.offset(second) === after;
  if (firstExists && secondExists) return Math.min(first, second);
  if (firstExists) return first;
  if (secondExists) return second;
  return local - Math.min(before, after) * 60_000;
}

/** The local date-time of an instant, as epoch milliseconds "as if UTC" (see {@link resolveLocal}). */
function toLocal(zone: Zone, ms: number): number {
  return ms + zone.offset(ms) * 60_000;
}

/** The instant of a wall-clock time on the calendar day `dayUtcMs` (midnight UTC of that date). */
function wallClock(zone: Zone, dayUtcMs: number, hour: number, minute: number): number {
  return resolveLocal(zone, dayUtcMs + hour * HOUR_MS + minute * 60_000);
}

/** Midnight UTC of the local calendar date of an instant, for plain calendar-day stepping. */
function localDay(zone: Zone, ms: number): number {
  const local = toLocal(zone, ms);
  return local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
}

// ---------------------------------------------------------------------------------------------------------
// Rotations
// ---------------------------------------------------------------------------------------------------------

function elapsedType(rotation: CompiledRotation): boolean {
  return rotation.type === 'hourly' || rotation.type === 'custom';
}

/** Start of shift k (k >= 0). */
function handoff(rotation: CompiledRotation, k: number): number {
  if (k <= 0) return rotation.startMs;
  switch (rotation.type) {
    case 'hourly':
    case 'custom':
      return rotation.startMs + k * rotation.length * HOUR_MS;
    case 'daily':
      return resolveLocal(rotation.zone, rotation.localStart + k * rotation.length * DAY_MS);
    case 'weekly':
      return resolveLocal(rotation.zone, rotation.localStart + k * rotation.length * 7 * DAY_MS);
  }
}

function nominalPeriodMs(rotation: CompiledRotation): number {
  switch (rotation.type) {
    case 'hourly':
    case 'custom':
      return rotation.length * HOUR_MS;
    case 'daily':
      return rotation.length * DAY_MS;
    case 'weekly':
      return rotation.length * 7 * DAY_MS;
  }
}

/**
 * The index of the shift containing `ms` (which must be >= startMs): arithmetic for elapsed-time rotations;
 * for daily/weekly an estimate from the nominal period, corrected by a step or two (DST moves handoffs by at
 * most a few hours, far less than a period).
 */
function shiftIndexAt(rotation: CompiledRotation, ms: number): number {
  let k = Math.max(0, Math.floor((ms - rotation.startMs) / nominalPeriodMs(rotation)));
  if (elapsedType(rotation)) return k;
  while (k > 0 && handoff(rotation, k) > ms) k--;
  while (handoff(rotation, k + 1) <= ms) k++;
  return k;
}

/** Whose shift k is; null for a turn with nobody on call. */
function participantOf(rotation: CompiledRotation, k: number): string | null {
  const user = rotation.participants[k % rotation.participants.length];
  if (user === undefined) throw new Error('unreachable: a rotation without participants has no shifts');
  return user;
}

/** The allowed windows of a restriction intersecting [fromMs, toMs), sorted and merged. */
function restrictionWindows(
  restriction: CompiledRestriction,
  zone: Zone,
  fromMs: number,
  toMs: number,
): [number, number][] {
  const found: [number, number][] = [];
  const lastDay = localDay(zone, toMs);
  for (let day = localDay(zone, fromMs) - restriction.lookbackDays * DAY_MS; day <= lastDay; day += DAY_MS) {
    const weekday = (new Date(day).getUTCDay() + 6) % 7;
    for (const w of restriction.windows) {
      if (w.startDay !== -1 && w.startDay !== weekday) continue;
      const start = Math.max(fromMs, wallClock(zone, day, w.startHour, w.startMin));
      const end = Math.min(toMs, wallClock(zone, day + w.spanDays * DAY_MS, w.endHour, w.endMin));
      if (start < end) found.push([start, end]);
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const w of found) {
    const last = merged[merged.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else merged.push(w);
  }
  return merged;
}

/** Who this rotation (layer) has on call at `ms`, if anyone. */
function rotationUserAt(rotation: CompiledRotation, zone: Zone, ms: number): string | undefined {
  if (rotation.participants.length === 0 || ms < rotation.startMs || ms >= rotation.endMs) return undefined;
  if (rotation.restriction && restrictionWindows(rotation.restriction, zone, ms, ms + 1).length === 0) {
    return undefined;
  }
  return participantOf(rotation, shiftIndexAt(rotation, ms)) ?? undefined;
}

interface Piece {
  user: string;
  start: number;
  end: number;
  rotationId?: string;
  override?: boolean;
}

/** This rotation's shifts within [fromMs, toMs), clipped, with its time restriction applied. */
function rotationPieces(rotation: CompiledRotation, zone: Zone, fromMs: number, toMs: number): Piece[] {
  const lo = Math.max(fromMs, rotation.startMs);
  const hi = Math.min(toMs, rotation.endMs);
  if (rotation.participants.length === 0 || lo >= hi) return [];
  const shifts: Piece[] = [];
  let k = shiftIndexAt(rotation, lo);
  let start = handoff(rotation, k);
  while (start < hi) {
    const next = handoff(rotation, k + 1);
    const clippedStart = Math.max(start, lo);
    const clippedEnd = Math.min(next, hi);
    const user = participantOf(rotation, k);
    if (clippedStart < clippedEnd && user !== null) {
      shifts.push({
        user,
        start: clippedStart,
        end: clippedEnd,
        rotationId: rotation.id,
      });
    }
    k++;
    start = next;
  }
  if (!rotation.restriction) return shifts;
  const windows = restrictionWindows(rotation.restriction, zone, lo, hi);
  const pieces: Piece[] = [];
  let j = 0;
  for (const shift of shifts) {
    while (j < windows.length && (windows[j]?.[1] ?? Infinity) <= shift.start) j++;
    for (let i = j; i < windows.length; i++) {
      const w = windows[i];
      if (!w || w[0] >= shift.end) break;
      const start = Math.max(w[0], shift.start);
      const end = Math.min(w[1], shift.end);
      if (start < end) pieces.push({ ...shift, start, end });
    }
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------------------
// Layers and overrides
// ---------------------------------------------------------------------------------------------------------

function covers(override: CompiledOverride, ms: number): boolean {
  return override.startMs <= ms && ms < override.endMs;
}

/** The on-call result at `ms` in "layers" mode, given a way to ask each layer (by index) whom it has there. */
function resolveAt(
  compiled: Compiled,
  ms: number,
  layerUser: (index: number) => string | undefined,
): OnCall | undefined {
  const global = compiled.globalOverrides.find((o) => covers(o, ms));
  if (global) return { user: global.user, override: true };
  for (let i = compiled.rotations.length - 1; i >= 0; i--) {
    const user = layerUser(i);
    const rotation = compiled.rotations[i];
    if (user !== undefined && rotation) return rotationOnCall(compiled, rotation, user, ms);
  }
  return undefined;
}

/** Whom a rotation whose turn is `user`'s at `ms` puts on call: an override of that rotation, or them. */
function rotationOnCall(compiled: Compiled, rotation: { id: string }, user: string, ms: number): OnCall {
  const scoped = compiled.scopedOverrides.find((o) => o.rotationIds?.has(rotation.id) && covers(o, ms));
  return scoped
    ? { user: scoped.user, rotationId: rotation.id, override: true }
    : { user, rotationId: rotation.id };
}

/** Everyone on call at `ms` in "all" mode: each rotation's person (or its override), each person once. */
function resolveAllAt(
  compiled: Compiled,
  ms: number,
  layerUser: (index: number) => string | undefined,
): OnCall[] {
  const global = compiled.globalOverrides.find((o) => covers(o, ms));
  if (global) return [{ user: global.user, override: true }];
  const found: OnCall[] = [];
  compiled.rotations.forEach((rotation, i) => {
    const user = layerUser(i);
    if (user === undefined) return;
    const who = rotationOnCall(compiled, rotation, user, ms);
    const already = found.find((f) => f.user === who.user);
    if (!already) {
      found.push(who);
      return;
    }
    // On call through several rotations: no single rotation, and an override only if every way is one.
    delete already.rotationId;
    if (!who.override) delete already.override;
  });
  return found;
}

/** Everyone on call at `ms` by the schedule's way of combining rotations (at most one in "layers" mode). */
function resolveAllModesAt(
  compiled: Compiled,
  ms: number,
  layerUser: (index: number) => string | undefined,
): OnCall[] {
  if (compiled.combine === 'all') return resolveAllAt(compiled, ms, layerUser);
  const who = resolveAt(compiled, ms, layerUser);
  return who ? [who] : [];
}

/** Everyone on call at `ms`, asking each rotation directly. */
function onCallsOf(compiled: Compiled, ms: number): OnCall[] {
  return resolveAllModesAt(compiled, ms, (index) => {
    const rotation = compiled.rotations[index];
    return rotation ? rotationUserAt(rotation, compiled.zone, ms) : undefined;
  });
}

function toShift(piece: Piece): Shift {
  return {
    user: piece.user,
    start: new Date(piece.start).toISOString(),
    end: new Date(piece.end).toISOString(),
    ...(piece.rotationId !== undefined ? { rotationId: piece.rotationId } : {}),
    ...(piece.override ? { override: true } : {}),
  };
}

function timelineOf(
  compiled: Compiled,
  fromMs: number,
  toMs: number,
): { final: Piece[]; rotations: { rotationId: string; pieces: Piece[] }[] } {
  const layers = compiled.rotations.map((r) => ({
    rotationId: r.id,
    pieces: toMs > fromMs ? rotationPieces(r, compiled.zone, fromMs, toMs) : [],
  }));
  if (toMs <= fromMs) return { final: [], rotations: layers };

  const bounds = new Set<number>([fromMs, toMs]);
  for (const layer of layers) {
    for (const p of layer.pieces) bounds.add(p.start).add(p.end);
  }
  for (const o of [...compiled.globalOverrides, ...compiled.scopedOverrides]) {
    for (const b of [o.startMs, o.endMs]) if (b > fromMs && b < toMs) bounds.add(b);
  }
  const points = [...bounds].sort((a, b) => a - b);

  const cursors = layers.map(() => 0);
  const final: Piece[] = [];
  // Each person's latest run: a piece continuing it (starting where it ends) is merged into it.
  const runs = new Map<string, Piece>();
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] ?? 0;
    const end = points[i + 1] ?? 0;
    const present = resolveAllModesAt(compiled, start, (index) => {
      const pieces = layers[index]?.pieces ?? [];
      let c = cursors[index] ?? 0;
      while (c < pieces.length && (pieces[c]?.end ?? Infinity) <= start) c++;
      cursors[index] = c;
      const piece = pieces[c];
      return piece && piece.start <= start ? piece.user : undefined;
    });
    for (const who of present) {
      const run = runs.get(who.user);
      if (run && run.end === start) {
        run.end = end;
        if (run.rotationId !== who.rotationId) delete run.rotationId;
        if (!who.override) delete run.override;
      } else {
        const piece: Piece = { start, end, ...who };
        final.push(piece);
        runs.set(who.user, piece);
      }
    }
  }
  return { final, rotations: layers };
}

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/**
 * Everyone on call at `at` (rotations combined as the schedule says, overrides applied), each once, in rotation
 * order; empty if nobody is. In "layers" mode there is at most one.
 */
export function onCallsAt(schedule: Schedule, at: Date): OnCall[] {
  const compiled = compile(schedule);
  return onCallsOf(compiled, millisOf(at, 'at'));
}

/**
 * The one on call at `at` in a "layers" schedule, or undefined if nobody is. In an "all" schedule several may be
 * on call: this is only the first of {@link onCallsAt}, so callers that page or list people use that instead.
 */
export function onCallAt(schedule: Schedule, at: Date): OnCall | undefined {
  return onCallsAt(schedule, at)[0];
}

/** The next change of who is on call (see the header). */
export interface NextOnCalls {
  /** When the newcomers come on call. */
  start: string;
  /** Those on call from `start` who were not on call at `after`, each with their whole stretch, in rotation order. */
  shifts: Shift[];
  /** Everyone on call at `start`: the newcomers and those who stay on (Opsgenie's exact next on-calls). */
  onCall: OnCall[];
}

/** The last change of who is on call before an instant (see the header). */
export interface PreviousOnCalls {
  /** When they went off call. */
  end: string;
  /** Those who went off call at `end` and are not on call at `at`, each with their whole stretch. */
  shifts: Shift[];
}

function checkedHorizon(horizonDays: number): number {
  if (!(horizonDays > 0) || !Number.isFinite(horizonDays)) {
    throw new RangeError(`horizonDays must be a positive number of days (got ${horizonDays})`);
  }
  return horizonDays * DAY_MS;
}

/** The whole stretch of `piece`'s user from its start, looked for up to max(horizon, 366 days) on. */
function stretchFrom(compiled: Compiled, piece: Piece, horizon: number): Piece {
  const limit = Math.max(horizon, NEXT_ON_CALL_END_SEARCH_DAYS * DAY_MS);
  let whole = piece;
  for (let span = DAY_MS; ; span = Math.min(span * 2, limit)) {
    const found = timelineOf(compiled, piece.start, piece.start + span).final.find(
      (p) => p.user === piece.user && p.start === piece.start,
    );
    if (found) whole = found;
    if (!found || found.end < piece.start + span || span >= limit) break;
  }
  return whole;
}

/** The whole stretch of `piece`'s user up to its end, looked for up to max(horizon, 366 days) back. */
function stretchUntil(compiled: Compiled, piece: Piece, horizon: number): Piece {
  const end = piece.end;
  const limit = Math.max(horizon, NEXT_ON_CALL_END_SEARCH_DAYS * DAY_MS);
  let whole = piece;
  for (let span = DAY_MS; ; span = Math.min(span * 2, limit)) {
    const found = timelineOf(compiled, end - span, end).final.find(
      (p) => p.user === piece.user && p.end === end,
    );
    if (found) whole = found;
    if (!found || found.start > end - span || span >= limit) break;
  }
  return whole;
}

/**
 * The next change of who is on call after `after` (see the header): the newcomers, coming on call within
 * `horizonDays` of `after`, with the ends of their stretches looked for up to max(horizonDays, 366) days after
 * they start; and everyone on call then. Undefined if nobody new comes on call within the horizon.
 */
export function nextOnCalls(
  schedule: Schedule,
  after: Date,
  horizonDays: number = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS,
): NextOnCalls | undefined {
  const compiled = compile(schedule);
  const ms = millisOf(after, 'after');
  const horizon = checkedHorizon(horizonDays);
  const { final } = timelineOf(compiled, ms, ms + horizon);
  const current = new Set(final.filter((p) => p.start === ms).map((p) => p.user));
  const later = final.filter((p) => p.start > ms && !current.has(p.user));
  if (later.length === 0) return undefined;
  const start = Math.min(...later.map((p) => p.start));
  const newcomers = later.filter((p) => p.start === start);
  return {
    start: new Date(start).toISOString(),
    // A stretch reaching the horizon may go on past it: look further for its real end.
    shifts: newcomers.map((p) => toShift(p.end < ms + horizon ? p : stretchFrom(compiled, p, horizon))),
    onCall: onCallsOf(compiled, start),
  };
}

/**
 * The first shift of {@link nextOnCalls}: in a "layers" schedule, the first shift (of the final, merged
 * timeline) starting after `after` whose user differs from the one on call at `after` (any user if nobody is),
 * starting within `horizonDays` of `after`. Its end is the real end of that user's stretch, looked for up to
 * max(horizonDays, 366) days after its start.
 */
export function nextOnCall(
  schedule: Schedule,
  after: Date,
  horizonDays: number = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS,
): Shift | undefined {
  return nextOnCalls(schedule, after, horizonDays)?.shifts[0];
}

/**
 * The mirror of {@link nextOnCalls}: the last instant at or before `at` (within `horizonDays`) at which someone
 * not on call at `at` went off call, and those who did, with the starts of their stretches looked for up to
 * max(horizonDays, 366) days before their end. Undefined if there is none within the horizon.
 */
export function previousOnCalls(
  schedule: Schedule,
  at: Date,
  horizonDays: number = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS,
): PreviousOnCalls | undefined {
  const compiled = compile(schedule);
  const ms = millisOf(at, 'at');
  const horizon = checkedHorizon(horizonDays);
  // One millisecond past `at`, so that the stretches containing `at` (if any) end there.
  const { final } = timelineOf(compiled, ms - horizon, ms + 1);
  const current = new Set(final.filter((p) => p.end === ms + 1).map((p) => p.user));
  const earlier = final.filter((p) => p.end <= ms && !current.has(p.user));
  if (earlier.length === 0) return undefined;
  const end = Math.max(...earlier.map((p) => p.end));
  const leavers = earlier.filter((p) => p.end === end);
  return {
    end: new Date(end).toISOString(),
    // A stretch reaching back past the horizon may have started before it: look further for its real start.
    shifts: leavers.map((p) => toShift(p.start > ms - horizon ? p : stretchUntil(compiled, p, horizon))),
  };
}

/**
 * The first shift of {@link previousOnCalls}: in a "layers" schedule, the last shift (of the final, merged
 * timeline) ending at or before `at` whose user differs from the one on call at `at` (any user if nobody is),
 * ending within `horizonDays` before `at`. Its start is the real start of that user's stretch, looked for up to
 * max(horizonDays, 366) days before its end.
 */
export function previousOnCall(
  schedule: Schedule,
  at: Date,
  horizonDays: number = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS,
): Shift | undefined {
  return previousOnCalls(schedule, at, horizonDays)?.shifts[0];
}

/**
 * Problems with a time restriction used on its own (team routing rules), one sentence each, as
 * {@link validateSchedule} words them; an empty array means it is usable.
 */
export function validateTimeRestriction(restriction: TimeRestriction, timezone: string): string[] {
  const problems: string[] = [];
  if (!zoneNamed(timezone)) {
    problems.push(
      `timezone ${describeValue(timezone)} is not a known IANA time zone; use a name such as "Europe/Berlin" or "America/New_York"`,
    );
  }
  validateRestriction(restriction, 'timeRestriction', problems);
  return problems;
}

/**
 * Whether `at` falls inside one of the restriction's windows, read in `timezone` by the same rules as a
 * rotation's restriction (see the header: DST gaps and overlaps, windows crossing midnight, weekday spans).
 * Throws a RangeError listing the problems of an invalid restriction or time zone, or of an invalid Date.
 */
export function withinTimeRestriction(restriction: TimeRestriction, timezone: string, at: Date): boolean {
  const problems = validateTimeRestriction(restriction, timezone);
  if (problems.length > 0) throw new RangeError(`invalid time restriction: ${problems.join('; ')}`);
  const zone = zoneNamed(timezone);
  if (!zone) throw new RangeError(`unknown time zone ${describeValue(timezone)}`);
  const ms = millisOf(at, 'at');
  return restrictionWindows(compileRestriction(restriction), zone, ms, ms + 1).length > 0;
}

/**
 * The shifts within [from, to): `final` is the merged result (rotations combined as the schedule says, overrides
 * applied, adjacent shifts of one user merged; overlapping in "all" mode); `rotations` has each rotation's own shifts (time restrictions applied, no overrides), in the order of
 * `schedule.rotations`. All clipped to [from, to).
 */
export function timeline(
  schedule: Schedule,
  from: Date,
  to: Date,
): { final: Shift[]; rotations: { rotationId: string; shifts: Shift[] }[] } {
  const compiled = compile(schedule);
  const { final, rotations } = timelineOf(compiled, millisOf(from, 'from'), millisOf(to, 'to'));
  return {
    final: final.map(toShift),
    rotations: rotations.map((r) => ({
      rotationId: r.rotationId,
      shifts: r.pieces.map(toShift),
    })),
  };
}
