/**
 * A schedule checked once and turned into numbers (epoch milliseconds, weekday indexes, sets of rotation
 * ids), so that the arithmetic, which asks about many instants per call, parses and validates nothing. Every
 * public function compiles its schedule first, and so refuses an invalid one with a RangeError listing its
 * problems.
 */
import type { Zone } from 'luxon';
import {
  WEEKDAYS,
  type RotationType,
  type RotationsCombine,
  type Schedule,
  type TimeRestriction,
} from './types.js';
import { indexOverrides, type OverrideIndex } from './override-index.js';
import { describeValue, parseInstant, validateSchedule } from './validation.js';
import { toLocal } from './wall-clock.js';
import { zoneNamed } from './zones.js';

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

export interface CompiledRestriction {
  /** How many days before an instant a window containing it may have started. */
  lookbackDays: number;
  windows: Window[];
}

export interface CompiledRotation {
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

export interface CompiledOverride {
  /** null: nobody (Opsgenie's `none`). */
  user: string | null;
  startMs: number;
  endMs: number;
  rotationIds?: ReadonlySet<string>;
}

export interface Compiled {
  zone: Zone;
  combine: RotationsCombine;
  rotations: CompiledRotation[];
  /** The overrides of the whole schedule. */
  globalOverrides: OverrideIndex<CompiledOverride>;
  /** The overrides of some rotations, by rotation id. */
  scopedOverrides: Map<string, OverrideIndex<CompiledOverride>>;
}

/** Instants in epoch milliseconds, [fromMs, toMs). */
export interface Reach {
  fromMs: number;
  toMs: number;
}

function instantOf(value: string): number {
  const ms = parseInstant(value, 'instant');
  if (typeof ms === 'string') throw new RangeError(ms);
  return ms;
}

export function compileRestriction(restriction: TimeRestriction): CompiledRestriction {
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

/** How many schedules compile has compiled since the process started: tests read it to see work done once. */
export const compileWork = { schedules: 0 };

/**
 * `reach`: the instants the computation asks about; overrides wholly outside it change nothing there, and
 * are left out of the indexes.
 */
export function compile(schedule: Schedule, reach?: Reach): Compiled {
  compileWork.schedules++;
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
  // Reversed: the later one in the list wins, and the index lets the first win.
  const overrides = schedule.overrides
    .map((o): CompiledOverride => ({
      user: o.user,
      startMs: instantOf(o.startDate),
      endMs: instantOf(o.endDate),
      ...(o.rotationIds ? { rotationIds: new Set(o.rotationIds) } : {}),
    }))
    .filter((o) => !reach || (o.endMs > reach.fromMs && o.startMs < reach.toMs))
    .reverse();
  const scoped = new Map<string, CompiledOverride[]>();
  for (const o of overrides) {
    for (const id of o.rotationIds ?? []) {
      const list = scoped.get(id);
      if (list) list.push(o);
      else scoped.set(id, [o]);
    }
  }
  return {
    zone,
    combine: schedule.rotationsCombine ?? 'all',
    rotations,
    globalOverrides: indexOverrides(overrides.filter((o) => o.rotationIds === undefined)),
    scopedOverrides: new Map([...scoped].map(([id, list]) => [id, indexOverrides(list)])),
  };
}

export function millisOf(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${what} is not a valid Date`);
  return ms;
}
