/**
 * The shapes of a schedule as callers hand it in (from the database, an API body or an import) and of the
 * results they get back: plain values, ISO strings and participant keys, so that nothing here depends on
 * where a schedule is stored. Kept apart from the computation so that every module of it can share them
 * without importing one another. The rules they follow are in ../schedule.ts.
 */

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
   * Participant keys (user ids, see the rules in ../schedule.ts) in turn order; null is a turn with nobody on
   * call. May be empty (nobody on call in this layer).
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
  /** A participant key, or null for nobody (Opsgenie's `none`): see the rules in ../schedule.ts. */
  user: string | null;
  startDate: string;
  endDate: string;
  rotationIds?: string[];
}

/**
 * How a schedule's rotations make who is on call: "all" (everyone each rotation has, Opsgenie's behaviour) or
 * "layers" (the highest rotation with someone wins). See the rules in ../schedule.ts.
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
  /**
   * Only from shiftsFrom (calendar exports; no API response carries it): the shift began earlier than
   * `start`, where following it back stopped for the work it took (see planShiftsFrom).
   */
  clipped?: boolean;
}

export interface OnCall {
  user: string;
  rotationId?: string;
  override?: boolean;
}

export const WEEKDAYS: readonly Weekday[] = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];
