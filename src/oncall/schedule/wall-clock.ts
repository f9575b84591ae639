/**
 * Local wall-clock times, written as epoch milliseconds "as if UTC" so that calendar arithmetic on them is
 * plain addition of whole days, and the instants they name in a zone, across DST gaps and overlaps by the
 * rules in ../schedule.ts. Daily/weekly handoffs and the bounds of time-restriction windows are such times;
 * the tests check them against luxon's DateTime#plus in a range of zones.
 */
import type { Zone } from 'luxon';
import { DAY_MS, HOUR_MS } from './durations.js';

/**
 * The instant at which the wall clock of `zone` shows `local` (a local date-time written as epoch milliseconds
 * "as if UTC", so that calendar arithmetic on it is plain addition). Where the zone's offset is the same a day
 * before and after, that is the only answer. Around a change:
 * - a time that happens twice (fall back) resolves to its first occurrence (the offset from before the change);
 * - a time that does not exist (spring forward) is read with the offset from before the change, which moves it
 *   forward by the length of the gap (02:30 → 03:30 for a one-hour gap), as luxon does.
 * Assumes offsets change at most once within a day either side of `local`.
 */
export function resolveLocal(zone: Zone, local: number): number {
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
export function toLocal(zone: Zone, ms: number): number {
  return ms + zone.offset(ms) * 60_000;
}

/** The instant of a wall-clock time on the calendar day `dayUtcMs` (midnight UTC of that date). */
export function wallClock(zone: Zone, dayUtcMs: number, hour: number, minute: number): number {
  return resolveLocal(zone, dayUtcMs + hour * HOUR_MS + minute * 60_000);
}

/** Midnight UTC of the local calendar date of an instant, for plain calendar-day stepping. */
export function localDay(zone: Zone, ms: number): number {
  const local = toLocal(zone, ms);
  return local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
}
