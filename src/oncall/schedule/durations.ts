/**
 * Lengths of time in milliseconds: the zone cache, the wall-clock arithmetic and the rotations all work on
 * epoch milliseconds rather than luxon DateTimes, and step by whole hours and days.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
