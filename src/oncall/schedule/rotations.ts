/**
 * One rotation (one layer) on its own: its handoffs, whose turn each shift is, and the windows of its time
 * restriction, before overrides and the other rotations come in. The shift at an instant is found
 * arithmetically (hourly/custom) or by an estimate from the nominal period corrected by a step or two
 * (daily/weekly), never by walking from startDate, so an instant years after startDate costs no more.
 */
import type { Zone } from 'luxon';
import type { CompiledRestriction, CompiledRotation } from './compiled.js';
import { DAY_MS, HOUR_MS } from './durations.js';
import { localDay, resolveLocal, wallClock } from './wall-clock.js';

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
export function restrictionWindows(
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
export function rotationUserAt(rotation: CompiledRotation, zone: Zone, ms: number): string | undefined {
  if (rotation.participants.length === 0 || ms < rotation.startMs || ms >= rotation.endMs) return undefined;
  if (rotation.restriction && restrictionWindows(rotation.restriction, zone, ms, ms + 1).length === 0) {
    return undefined;
  }
  return participantOf(rotation, shiftIndexAt(rotation, ms)) ?? undefined;
}

export interface Piece {
  user: string;
  start: number;
  end: number;
  rotationId?: string;
  override?: boolean;
  /** Its start (or end) is where following the stretch stopped for work, not the real one. */
  clipped?: boolean;
}

/** This rotation's shifts within [fromMs, toMs), clipped, with its time restriction applied. */
export function rotationPieces(
  rotation: CompiledRotation,
  zone: Zone,
  fromMs: number,
  toMs: number,
): Piece[] {
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

/** How many shifts and restriction windows [fromMs, toMs) holds at most (nominal lengths, one extra each). */
function shiftsAndWindowsBound(
  rotation: CompiledRotation,
  fromMs: number,
  toMs: number,
): { shifts: number; windows: number } {
  const lo = Math.max(fromMs, rotation.startMs);
  const hi = Math.min(toMs, rotation.endMs);
  if (rotation.participants.length === 0 || lo >= hi) return { shifts: 0, windows: 0 };
  const shifts = Math.ceil((hi - lo) / nominalPeriodMs(rotation)) + 1;
  if (!rotation.restriction) return { shifts, windows: 0 };
  const days = Math.ceil((hi - lo) / DAY_MS) + rotation.restriction.lookbackDays + 1;
  const weekly = rotation.restriction.windows.every((w) => w.startDay !== -1);
  const windows = rotation.restriction.windows.length * (weekly ? Math.ceil(days / 7) + 1 : days);
  return { shifts, windows };
}

/**
 * Worked out without listing them, for [fromMs, toMs): at most how many pieces rotationPieces gives
 * (`pieces`: each ends at a handoff or at the end of a restriction window, so no more than the shifts and
 * windows the span holds; nominal lengths, and DST moves a handoff by an hour, which the one extra of each
 * covers), and at most how many distinct instants they begin or end at (`instants`: a handoff or a bound
 * of a window, two a window, and the span's end).
 */
export function rotationBounds(
  rotation: CompiledRotation,
  fromMs: number,
  toMs: number,
): { pieces: number; instants: number } {
  const { shifts, windows } = shiftsAndWindowsBound(rotation, fromMs, toMs);
  return { pieces: shifts + windows, instants: shifts === 0 ? 0 : shifts + 2 * windows + 1 };
}
