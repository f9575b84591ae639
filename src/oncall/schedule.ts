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
 *   - An override whose `user` is null (Opsgenie's `none`) puts nobody on call in its window: without
 *     `rotationIds` nobody at all is on call; with them those rotations have nobody there, as in a `none`
 *     turn (in "layers" mode a lower layer shows through).
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
 *   Without a horizon the change is looked for as far as the schedule needs: past its last turning point
 *   (a rotation's start or end, an override's start or end) by two turns of its longest rotation and a
 *   week, at least 90 days and at most three years off (see {@link nextOnCalls}), and for as long as the
 *   work allowed lasts (MAX_CHANGE_SEARCH_PIECES): past it the look throws {@link ChangeSearchTooCostly}.
 * - All instants in and out are ISO 8601 strings; inputs must carry "Z" or an offset. Outputs are UTC ('Z').
 *   The computing functions throw a RangeError listing the problems of an invalid schedule (those that
 *   {@link validateSchedule} reports) or of an invalid Date argument.
 *
 * The computation lives in schedule/, one step per module; this module is the public API over it. The rules
 * stay here rather than beside the code that implements each of them: together they are the one contract
 * that callers and the tests rely on.
 */
import {
  compile,
  compileRestriction,
  millisOf,
  type Compiled,
  type CompiledRotation,
  type Reach,
} from './schedule/compiled.js';
import { onCallsOf, timelineCostOf, timelineOf, toShift } from './schedule/combine.js';
import { DAY_MS, HOUR_MS } from './schedule/durations.js';
import { restrictionWindows, type Piece } from './schedule/rotations.js';
import type { OnCall, Schedule, Shift, TimeRestriction } from './schedule/types.js';
import { describeValue, validateRestriction } from './schedule/validation.js';
import { zoneNamed } from './schedule/zones.js';

export type {
  Override,
  Rotation,
  RotationsCombine,
  RotationType,
  Schedule,
  Shift,
  TimeRestriction,
  Weekday,
} from './schedule/types.js';
export { validateSchedule } from './schedule/validation.js';

/**
 * How far the next or previous change is looked for at most when the caller gives no horizon: the schedule
 * decides how far it needs (see changeSearchEnd), up to three years, leap days included. A rotation may be a
 * million weeks long (and start any time), and Opsgenie's who-is-on-call has no horizon at all, so some bound is ours to choose.
 */
const MAX_ON_CALL_CHANGE_SEARCH_DAYS = 3 * 366;
/** The least a derived search covers, as the fixed horizon of old did: restrictions make gaps of weeks. */
const MIN_ON_CALL_CHANGE_SEARCH_DAYS = 90;
/**
 * The longest piece of timeline walked at once while looking for a change. Pieces start at a day and double
 * up to it, so the usual change a few hours or days off costs a short walk, and a change years off a walk
 * in steps that each stay small.
 */
const CHANGE_SEARCH_STEP_DAYS = 90;
const NEXT_ON_CALL_END_SEARCH_DAYS = 366;
/**
 * The least work (pieces, as timelineCostOf counts them) following one person's stretch past a window may
 * take, along the rotations that can change it (see reducedFor): a year of a single hourly rotation (about
 * 17,500), so that an ordinary stretch is followed to its real end. A busier one (someone always on call
 * through 50 hourly rotations would cost over a million pieces a year) stops where this runs out, at a
 * 28-day grid boundary (see STRETCH_CLIP_GRID_MS).
 */
const STRETCH_WALK_MIN_PIECES = 20_000;

/**
 * The most work (pieces, as timelineCostOf counts them) looking for the next or previous change may take,
 * besides following the stretches of those it finds (see STRETCH_WALK_MIN_PIECES): four times what one
 * timeline may hold (MAX_TIMELINE_PIECES in src/oncall/schedules/service.ts), a fraction of a second. It
 * is computed in one go, on the event loop the API and the engine share; without a bound, one person on
 * call for years through 49 hourly rotations of 100 restriction windows each (within the limits) made
 * the look millions of pieces, seconds of work. Ordinary schedules come nowhere near it: three months of
 * ten hourly rotations are under 50,000.
 */
export const MAX_CHANGE_SEARCH_PIECES = 200_000;

/**
 * Thrown by {@link nextOnCalls} and {@link previousOnCalls} (and {@link nextOnCall}, {@link previousOnCall})
 * when the change was not found within MAX_CHANGE_SEARCH_PIECES of work: nobody new comes on call from the
 * instant asked about until `reached` at least (or, looking back, went off call from `reached` on), and
 * looking further would take more. Not an answer either way: the change may be further on.
 */
export class ChangeSearchTooCostly extends Error {
  constructor(
    /** Which look ran out. */
    readonly direction: 'next' | 'previous',
    /** How far it got (ISO 8601, UTC): the change is not between here and the instant asked about. */
    readonly reached: string,
    /** The work it did, in pieces (at most MAX_CHANGE_SEARCH_PIECES). */
    readonly pieces: number,
  ) {
    super(
      `the ${direction} change of who is on call was not found within the work allowed (${pieces} of ${MAX_CHANGE_SEARCH_PIECES} pieces): none ${direction === 'next' ? 'before' : 'after'} ${reached}`,
    );
    this.name = 'ChangeSearchTooCostly';
  }
}

/**
 * The instants [from, to) whose overrides a computation can see: a caller that loads a stored schedule
 * for one needs to load only the overrides overlapping its reach (see the functions below, each named
 * after the computation it is for), however many others the schedule has had.
 */
export interface OverrideReach {
  from: Date;
  to: Date;
}

function reachOf(reach: Reach): OverrideReach {
  return { from: new Date(reach.fromMs), to: new Date(reach.toMs) };
}

function onCallsReachMs(at: Date): Reach {
  const ms = millisOf(at, 'at');
  return { fromMs: ms, toMs: ms + 1 };
}

/** The reach of {@link onCallsAt} and {@link onCallAt}. */
export function onCallsReach(at: Date): OverrideReach {
  return reachOf(onCallsReachMs(at));
}

/**
 * Everyone on call at `at` (rotations combined as the schedule says, overrides applied), each once, in rotation
 * order; empty if nobody is. In "layers" mode there is at most one.
 */
export function onCallsAt(schedule: Schedule, at: Date): OnCall[] {
  const reach = onCallsReachMs(at);
  return onCallsOf(compile(schedule, reach), reach.fromMs);
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

/** How far the next or previous change is looked for, and a stretch followed past it. */
interface ChangeSearch {
  /** The horizon given; without one the schedule decides (see changeSearchEnd), up to `most`. */
  horizon?: number;
  /** The furthest from the instant asked about that the change may be. */
  most: number;
  /** How far the whole stretch of one who comes or goes is followed (see stretchesPast). */
  stretch: number;
}

function changeSearchOf(horizonDays: number | undefined): ChangeSearch {
  if (horizonDays === undefined) {
    return { most: MAX_ON_CALL_CHANGE_SEARCH_DAYS * DAY_MS, stretch: stretchLimit(0) };
  }
  const horizon = checkedHorizon(horizonDays);
  return { horizon, most: horizon, stretch: stretchLimit(horizon) };
}

/** One run of a user and the next (or the one before) joined: a rotation and "override" only if both have them. */
function joined(a: Piece, b: Piece): Piece {
  return {
    user: a.user,
    start: Math.min(a.start, b.start),
    end: Math.max(a.end, b.end),
    ...(a.rotationId !== undefined && a.rotationId === b.rotationId ? { rotationId: a.rotationId } : {}),
    ...(a.override && b.override ? { override: true } : {}),
    ...(a.clipped || b.clipped ? { clipped: true } : {}),
  };
}

/**
 * A clipped stretch's cut-off moves to a boundary of this epoch-aligned grid (the inward one), so that
 * a walk cut short by its budget, which runs out a little further on as the clock moves, gives the same
 * start (or end) on every fetch for four weeks: a calendar names a shift by its start.
 */
const STRETCH_CLIP_GRID_MS = 28 * DAY_MS;

/** The most one minute's precision: how finely a last piece of walk is shrunk to fit what is left. */
const STRETCH_FIT_MS = 60_000;

/**
 * The schedule as far as `user`'s runs go: in "all" mode the rotations that have them (as a participant,
 * or through an override of that rotation that wins somewhere), in "layers" mode those and every layer
 * above the lowest of them; the overrides of those rotations, and all of the whole schedule. No other
 * rotation can put them on call or take it from them, nor change how their runs read (a rotation is
 * kept only if it is every piece's), so their runs are the same in it; a walk along it costs only what
 * those rotations hold, not what a busy rotation they are not in does. `key` names the rotations kept.
 */
function reducedFor(compiled: Compiled, user: string): { key: string; compiled: Compiled } {
  const names = (index: number): boolean => {
    const r = compiled.rotations[index];
    if (!r) return false;
    if (r.participants.includes(user)) return true;
    return compiled.scopedOverrides.get(r.id)?.winners.some((o) => o?.user === user) ?? false;
  };
  let kept = compiled.rotations.map((_, i) => i).filter(names);
  if (compiled.combine !== 'all' && kept.length > 0) {
    const lowest = kept[0] ?? 0;
    kept = compiled.rotations.map((_, i) => i).filter((i) => i >= lowest);
  }
  const rotations = kept.flatMap((i) => compiled.rotations[i] ?? []);
  const ids = new Set(rotations.map((r) => r.id));
  return {
    key: kept.join(','),
    compiled: {
      ...compiled,
      rotations,
      scopedOverrides: new Map([...compiled.scopedOverrides].filter(([id]) => ids.has(id))),
    },
  };
}

/**
 * Where the stretches of `users` that reach `ms` go on past it (see walkPast), each person walked along
 * only the part of the schedule that can change their runs (see reducedFor): a lead on a weekly rotation
 * beside busy hourly ones is followed for the cost of the weekly one. People with the same such part share
 * one walk. Each walk may cost `budget` pieces, and all of them together four times that: cheapest first,
 * each an even share of what is left among the walks still to go, so that many busy ones all get some
 * (the first four taking the whole of it left the others none); what a cheap one leaves goes to the rest.
 */
function stretchesPast(
  compiled: Compiled,
  ms: number,
  users: readonly string[],
  direction: 1 | -1,
  limitMs: number,
  budget: number,
): Map<string, Piece> {
  const groups = new Map<string, { compiled: Compiled; users: string[] }>();
  for (const user of new Set(users)) {
    const reduced = reducedFor(compiled, user);
    const group = groups.get(reduced.key);
    if (group) group.users.push(user);
    else groups.set(reduced.key, { compiled: reduced.compiled, users: [user] });
  }
  const rate = (c: Compiled) =>
    direction > 0 ? timelineCostOf(c, ms, ms + DAY_MS) : timelineCostOf(c, ms - DAY_MS, ms);
  const ordered = [...groups.values()].sort((a, b) => rate(a.compiled) - rate(b.compiled));
  const found = new Map<string, Piece>();
  let left = 4 * budget;
  for (const [i, group] of ordered.entries()) {
    const share = Math.min(budget, Math.floor(left / (ordered.length - i)));
    const { pieces, spent } = walkPast(group.compiled, ms, group.users, direction, limitMs, share);
    left -= spent;
    for (const [user, piece] of pieces) found.set(user, piece);
  }
  return found;
}

/**
 * Where the stretches of `users` that reach `ms` go on past it: forward (`direction` 1) each one's run
 * [ms, end), backward (-1) its run [start, ms); none for one not on call on that side of `ms`. One walk
 * shared by them all, in pieces of a day doubling in length (the last one shrunk to what the budget has
 * left), up to `limitMs` and for as long as `budget` (pieces, as timelineCostOf counts them) lasts. A run
 * still going where the limit is stops there; one still going where the budget ran out stops at the grid
 * boundary inward of that (STRETCH_CLIP_GRID_MS), marked `clipped`. If no boundary past `ms` was reached
 * (or the budget allowed no step at all), the run is known only to go on past `ms`: it is the empty run
 * at `ms`, marked `clipped`, so that it reads "since before" (or "on after") rather than as a shift
 * beginning (or ending) at `ms`; the walk cannot honestly say more, and a guess further out would move.
 */
function walkPast(
  compiled: Compiled,
  ms: number,
  users: readonly string[],
  direction: 1 | -1,
  limitMs: number,
  budget: number,
): { pieces: Map<string, Piece>; spent: number } {
  const found = new Map<string, Piece>();
  const pending = new Set(users);
  const costOf = (near: number, span: number) => {
    const far = direction > 0 ? Math.min(limitMs, near + span) : Math.max(limitMs, near - span);
    return direction > 0 ? timelineCostOf(compiled, near, far) : timelineCostOf(compiled, far, near);
  };
  let left = budget;
  let near = ms;
  let exhausted = false;
  for (
    let span = DAY_MS;
    !exhausted && pending.size > 0 && (direction > 0 ? near < limitMs : near > limitMs);
    span *= 2
  ) {
    let cost = costOf(near, span);
    if (cost > left) {
      // Shrunk to what is left rather than stopping here: doubling spans left up to half the budget unused.
      let fits = 0;
      let fitsCost = 0;
      let over = span;
      while (over - fits > STRETCH_FIT_MS) {
        const mid = Math.floor((fits + over) / 2);
        const midCost = costOf(near, mid);
        if (midCost > left) over = mid;
        else [fits, fitsCost] = [mid, midCost];
      }
      exhausted = true;
      if (fits < STRETCH_FIT_MS) break;
      [span, cost] = [fits, fitsCost];
    }
    const far = direction > 0 ? Math.min(limitMs, near + span) : Math.max(limitMs, near - span);
    const [from, to] = direction > 0 ? [near, far] : [far, near];
    left -= cost;
    // Each person's run at the edge the walk comes in from: one a person, as runs of one never overlap.
    const atEdge = new Map<string, Piece>();
    for (const p of timelineOf(compiled, from, to).final) {
      if (direction > 0 ? p.start === from : p.end === to) atEdge.set(p.user, p);
    }
    for (const user of pending) {
      const piece = atEdge.get(user);
      if (!piece) {
        pending.delete(user);
        continue;
      }
      const had = found.get(user);
      found.set(user, had ? joined(had, piece) : { ...piece });
      if (direction > 0 ? piece.end < to : piece.start > from) pending.delete(user);
    }
    near = far;
  }
  const reachedLimit = direction > 0 ? near >= limitMs : near <= limitMs;
  if (!reachedLimit) {
    // Cut short by the budget: those still going stop at a grid boundary, the same over many fetches.
    const grid = STRETCH_CLIP_GRID_MS;
    const cut = direction > 0 ? Math.floor(near / grid) * grid : Math.ceil(near / grid) * grid;
    // Without a step taken, whether a run goes on past `ms` at all is read at the one instant next to it.
    const across =
      near === ms ? new Set(onCallsOf(compiled, direction > 0 ? ms : ms - 1).map((o) => o.user)) : undefined;
    for (const user of pending) {
      const piece = found.get(user);
      if (!piece && !across?.has(user)) continue;
      if (!piece || (direction > 0 ? cut <= ms : cut >= ms)) {
        found.set(user, { user, start: ms, end: ms, clipped: true });
        continue;
      }
      found.set(user, { ...piece, ...(direction > 0 ? { end: cut } : { start: cut }), clipped: true });
    }
  }
  return { pieces: found, spent: budget - left };
}

/**
 * `piece` with where its user's stretch goes on past it (see stretchesPast), if it does. The empty run
 * a walk gives for a stretch it could not follow to a grid boundary only marks the piece `clipped`: it
 * has no rotation of its own, which joining would take for a different one.
 */
function stretched(piece: Piece, past: Map<string, Piece>): Piece {
  const more = past.get(piece.user);
  if (!more) return piece;
  if (more.start === more.end) return { ...piece, clipped: true };
  return joined(piece, more);
}

/** How far a stretch's end or start is looked for: max(horizon, 366 days). */
function stretchLimit(horizon: number): number {
  return Math.max(horizon, NEXT_ON_CALL_END_SEARCH_DAYS * DAY_MS);
}

/** One full turn of a rotation: every participant's shift once (nominal lengths; DST moves it by an hour). */
function cycleMs(rotation: CompiledRotation): number {
  const unit = rotation.type === 'daily' ? DAY_MS : rotation.type === 'weekly' ? 7 * DAY_MS : HOUR_MS;
  return rotation.participants.length * rotation.length * unit;
}

/**
 * How long a schedule left to itself takes to show every change it will ever make again: two full turns of
 * its longest rotation, and a week, over which every time restriction's windows come round.
 */
function settlingMs(compiled: Compiled): number {
  return 2 * Math.max(0, ...compiled.rotations.map(cycleMs)) + 7 * DAY_MS;
}

/** The instants the make-up of the schedule changes at: rotations start and end, overrides begin and end. */
function turningPointsOf(compiled: Compiled): number[] {
  return [
    ...compiled.rotations.flatMap((r) => (Number.isFinite(r.endMs) ? [r.startMs, r.endMs] : [r.startMs])),
    ...compiled.globalOverrides.bounds,
    ...[...compiled.scopedOverrides.values()].flatMap((index) => index.bounds),
  ];
}

/**
 * The end of the search for the next change after `ms`. Once the last turning point is past, the rotations
 * just go round, so whoever will come on call comes within settlingMs of it (the longest-rotation bound
 * can miss only a restriction out of step with a short rotation for longer, which nobody configures on
 * purpose). At least MIN_ON_CALL_CHANGE_SEARCH_DAYS; at most `search.most`.
 */
function changeSearchEnd(compiled: Compiled, ms: number, search: ChangeSearch): number {
  if (search.horizon !== undefined) return ms + search.horizon;
  const settled = turningPointsOf(compiled).reduce((a, b) => Math.max(a, b), ms) + settlingMs(compiled);
  return ms + Math.min(search.most, Math.max(MIN_ON_CALL_CHANGE_SEARCH_DAYS * DAY_MS, settled - ms));
}

/**
 * The mirror of changeSearchEnd: the stretches of time, latest first, each [from, to), searched for the last
 * change at or before `ms`. Whole back past the last turning point at or before `ms` by settlingMs (and at
 * least MIN_ON_CALL_CHANGE_SEARCH_DAYS); before that, each stretch between two turning points over its
 * last settlingMs only: the rotations just went round through it, so whatever change it held recurs
 * there. Searching back from the last turning point alone missed a change before an earlier one, when
 * a later one changed nothing (a short `none` override, say). Never before the first turning point, as
 * nobody was on call before anything began; never further back than `search.most`.
 */
function changeSearchWindows(compiled: Compiled, ms: number, search: ChangeSearch): [number, number][] {
  if (search.horizon !== undefined) return [[ms - search.horizon, ms + 1]];
  const furthest = ms - search.most;
  const least = ms - MIN_ON_CALL_CHANGE_SEARCH_DAYS * DAY_MS;
  const past = [...new Set(turningPointsOf(compiled).filter((t) => t <= ms))].sort((a, b) => b - a);
  const latest = past[0];
  if (latest === undefined) return [[Math.max(furthest, least), ms + 1]];
  const settling = settlingMs(compiled);
  const windows: [number, number][] = [[Math.max(furthest, Math.min(least, latest - settling)), ms + 1]];
  for (let k = 0; k + 1 < past.length; k++) {
    const end = past[k] ?? 0;
    const from = Math.max(furthest, past[k + 1] ?? 0, end - settling);
    const last = windows[windows.length - 1];
    if (!last || end <= furthest) break;
    if (from >= last[0]) continue;
    if (end >= last[0]) last[0] = from;
    else windows.push([from, end]);
  }
  return windows;
}

/** The next piece of a walk in steps: a day first, twice as long each time, up to CHANGE_SEARCH_STEP_DAYS. */
function nextStep(step: number): number {
  return Math.min(step * 2, CHANGE_SEARCH_STEP_DAYS * DAY_MS);
}

/** The shortest a step of a look for a change is shrunk to, to fit the work it has left. */
const CHANGE_SEARCH_MIN_STEP_MS = HOUR_MS;

/**
 * The work a look for a change (next or previous) has done, against MAX_CHANGE_SEARCH_PIECES. `take`
 * gives the span of the next step from `near` towards `far` (forward if `far` is later, back if earlier):
 * the whole of it if its work fits what is left, else halved until it does (down to an hour, so that
 * doubling steps leave little of the budget unused); past that it throws ChangeSearchTooCostly, naming
 * `near` as how far the look got. Counted before the work, as timelines are refused before it.
 */
function changeSearchBudget(compiled: Compiled, direction: 'next' | 'previous') {
  let spent = 0;
  return {
    take(near: number, far: number): number {
      const costOf = (span: number) =>
        far > near
          ? timelineCostOf(compiled, near, near + span)
          : timelineCostOf(compiled, near - span, near);
      let span = Math.abs(far - near);
      let cost = costOf(span);
      while (spent + cost > MAX_CHANGE_SEARCH_PIECES && span > CHANGE_SEARCH_MIN_STEP_MS) {
        span = Math.max(CHANGE_SEARCH_MIN_STEP_MS, Math.floor(span / 2));
        cost = costOf(span);
      }
      if (spent + cost > MAX_CHANGE_SEARCH_PIECES) {
        throw new ChangeSearchTooCostly(direction, new Date(near).toISOString(), spent);
      }
      spent += cost;
      return span;
    },
  };
}

function nextOnCallsReachMs(after: Date, horizonDays: number | undefined): Reach {
  const ms = millisOf(after, 'after');
  const search = changeSearchOf(horizonDays);
  // A newcomer starts within `most`, and their stretch is followed up to `stretch` after that.
  return { fromMs: ms, toMs: ms + search.most + search.stretch };
}

/**
 * The reach of {@link nextOnCalls} and {@link nextOnCall}: with no horizon, as far as any schedule may need
 * (MAX_ON_CALL_CHANGE_SEARCH_DAYS), since which overrides are loaded is decided before the rotations are known.
 */
export function nextOnCallsReach(after: Date, horizonDays?: number): OverrideReach {
  return reachOf(nextOnCallsReachMs(after, horizonDays));
}

function previousOnCallsReachMs(at: Date, horizonDays: number | undefined): Reach {
  const ms = millisOf(at, 'at');
  const search = changeSearchOf(horizonDays);
  return { fromMs: ms - search.most - search.stretch, toMs: ms + 1 };
}

/** The reach of {@link previousOnCalls} and {@link previousOnCall} (see {@link nextOnCallsReach}). */
export function previousOnCallsReach(at: Date, horizonDays?: number): OverrideReach {
  return reachOf(previousOnCallsReachMs(at, horizonDays));
}

/**
 * The next change of who is on call after `after` (see the header): the newcomers, with the ends of their
 * stretches looked for up to max(horizonDays, 366) days after they start; and everyone on call then.
 * Undefined if nobody new comes on call within `horizonDays` of `after`, or, without it, as far as the
 * schedule can still bring anyone: past its last rotation start or end and override end by two turns of
 * its longest rotation and a week, at least 90 days and at most three years from `after`. Throws
 * {@link ChangeSearchTooCostly} if the look would take more work than MAX_CHANGE_SEARCH_PIECES.
 */
export function nextOnCalls(schedule: Schedule, after: Date, horizonDays?: number): NextOnCalls | undefined {
  const reach = nextOnCallsReachMs(after, horizonDays);
  const search = changeSearchOf(horizonDays);
  const compiled = compile(schedule, reach);
  const ms = reach.fromMs;
  const end = changeSearchEnd(compiled, ms, search);
  const current = new Set(onCallsOf(compiled, ms).map((o) => o.user));
  const budget = changeSearchBudget(compiled, 'next');
  // Piece by piece: one ending where the next begins changes nothing, as a newcomer is someone not on
  // call at `after`, and one on call across the seam would have been found in the earlier piece.
  for (let from = ms, step = DAY_MS; from < end; from += step, step = nextStep(step)) {
    step = budget.take(from, Math.min(end, from + step));
    const to = from + step;
    const later = timelineOf(compiled, from, to).final.filter((p) => p.start > ms && !current.has(p.user));
    if (later.length === 0) continue;
    const start = Math.min(...later.map((p) => p.start));
    const newcomers = later.filter((p) => p.start === start);
    // A stretch reaching the end of the piece may go on past it: look further for its real end.
    const past = stretchesPast(
      compiled,
      to,
      newcomers.filter((p) => p.end >= to).map((p) => p.user),
      1,
      start + search.stretch,
      STRETCH_WALK_MIN_PIECES,
    );
    return {
      start: new Date(start).toISOString(),
      shifts: newcomers.map((p) => toShift(stretched(p, past))),
      onCall: onCallsOf(compiled, start),
    };
  }
  return undefined;
}

/**
 * The first shift of {@link nextOnCalls}: in a "layers" schedule, the first shift (of the final, merged
 * timeline) starting after `after` whose user differs from the one on call at `after` (any user if nobody is),
 * starting within `horizonDays` of `after` (or as far as {@link nextOnCalls} looks without it). Its end is
 * the real end of that user's stretch, looked for up to max(horizonDays, 366) days after its start.
 */
export function nextOnCall(schedule: Schedule, after: Date, horizonDays?: number): Shift | undefined {
  return nextOnCalls(schedule, after, horizonDays)?.shifts[0];
}

/**
 * The mirror of {@link nextOnCalls}: the last instant at or before `at` at which someone not on call at
 * `at` went off call, and those who did, with the starts of their stretches looked for up to
 * max(horizonDays, 366) days before their end. Undefined if there is none within `horizonDays` before `at`,
 * or, without it, as far back as the schedule needs (back to its first rotation or override: between each
 * two of their starts and ends, over the last two turns of its longest rotation and a week, as the
 * rotations just go round there), at least 90 days and at most three years. Throws
 * {@link ChangeSearchTooCostly} if the look would take more work than MAX_CHANGE_SEARCH_PIECES.
 */
export function previousOnCalls(
  schedule: Schedule,
  at: Date,
  horizonDays?: number,
): PreviousOnCalls | undefined {
  const reach = previousOnCallsReachMs(at, horizonDays);
  const search = changeSearchOf(horizonDays);
  const compiled = compile(schedule, reach);
  const ms = reach.toMs - 1;
  const current = new Set(onCallsOf(compiled, ms).map((o) => o.user));
  const budget = changeSearchBudget(compiled, 'previous');
  for (const [start, last] of changeSearchWindows(compiled, ms, search)) {
    // Piece by piece back, as nextOnCalls goes forward. The first piece ends one millisecond past `at`,
    // so that the stretches containing `at` (if any) end there.
    for (let to = last, step = DAY_MS; to > start; to -= step, step = nextStep(step)) {
      step = budget.take(to, Math.max(start, to - step));
      const from = to - step;
      let onAtTo: Set<string> | undefined;
      const earlier = timelineOf(compiled, from, to).final.filter(
        (p) =>
          p.end <= ms &&
          !current.has(p.user) &&
          // Cut off at the end of a window searched after a gap, and on call on past it: no end.
          (p.end < to || !(onAtTo ??= new Set(onCallsOf(compiled, to).map((o) => o.user))).has(p.user)),
      );
      if (earlier.length === 0) continue;
      const end = Math.max(...earlier.map((p) => p.end));
      const leavers = earlier.filter((p) => p.end === end);
      // A stretch reaching back to the start of the piece may have begun before it: look further back.
      const past = stretchesPast(
        compiled,
        from,
        leavers.filter((p) => p.start <= from).map((p) => p.user),
        -1,
        end - search.stretch,
        STRETCH_WALK_MIN_PIECES,
      );
      return {
        end: new Date(end).toISOString(),
        shifts: leavers.map((p) => toShift(stretched(p, past))),
      };
    }
  }
  return undefined;
}

/**
 * The first shift of {@link previousOnCalls}: in a "layers" schedule, the last shift (of the final, merged
 * timeline) ending at or before `at` whose user differs from the one on call at `at` (any user if nobody is),
 * ending within `horizonDays` before `at` (or as far back as {@link previousOnCalls} looks without it). Its
 * start is the real start of that user's stretch, looked for up to max(horizonDays, 366) days before its end.
 */
export function previousOnCall(schedule: Schedule, at: Date, horizonDays?: number): Shift | undefined {
  return previousOnCalls(schedule, at, horizonDays)?.shifts[0];
}

function shiftsFromReachMs(from: Date, to: Date): Reach {
  // The first shift's start is looked for up to stretchLimit(0) before `from`.
  return { fromMs: millisOf(from, 'from') - stretchLimit(0), toMs: millisOf(to, 'to') };
}

/** The reach of {@link shiftsFrom}. */
export function shiftsFromReach(from: Date, to: Date): OverrideReach {
  return reachOf(shiftsFromReachMs(from, to));
}

/**
 * A computation over a window, compiled once. `pieces` is at most how many shifts it works through and
 * gives, each rotation's and the final ones, worked out from the rotations' lengths, restrictions and
 * overrides without computing them (timelineCostOf in schedule/combine.ts): a caller serving timelines
 * refuses a window above some limit before the work, which grows with it (a schedule of many hourly
 * rotations has hundreds of thousands in three months). `compute` does the work.
 */
export interface TimelinePlan<T> {
  pieces: number;
  compute(): T;
}

/**
 * {@link shiftsFrom}, planned: a caller checks `pieces` against its limit, then computes. Following the
 * stretches under way at `from` back takes, for each person, at most about as much work again as `pieces`
 * (or a year of a single hourly rotation, if more) along the rotations that can change their stretch,
 * and four times that for everyone; a stretch that goes back further starts at a 28-day grid boundary
 * within what was walked, the same on each fetch for weeks, and is marked `clipped`.
 */
export function planShiftsFrom(schedule: Schedule, from: Date, to: Date): TimelinePlan<Shift[]> {
  const reach = shiftsFromReachMs(from, to);
  const compiled = compile(schedule, reach);
  const fromMs = millisOf(from, 'from');
  const pieces = timelineCostOf(compiled, fromMs, reach.toMs);
  return {
    pieces,
    compute: () => {
      const { final } = timelineOf(compiled, fromMs, reach.toMs);
      const past = stretchesPast(
        compiled,
        fromMs,
        final.filter((p) => p.start === fromMs).map((p) => p.user),
        -1,
        fromMs - stretchLimit(0),
        Math.max(pieces, STRETCH_WALK_MIN_PIECES),
      );
      return final.map((p) => {
        const piece = p.start === fromMs ? stretched(p, past) : p;
        return { ...toShift(piece), ...(piece.clipped ? { clipped: true } : {}) };
      });
    },
  };
}

/**
 * The final shifts overlapping [from, to), as {@link timeline} gives them but for their starts: a shift
 * under way at `from` starts where its user's stretch really began (looked for up to 366 days back, and
 * as far as the work allowed allows: see {@link planShiftsFrom}), so that it reads the same whatever
 * `from` is. A calendar feed whose window moves with the clock names each shift by its start, and would
 * otherwise see its first shift start anew on every fetch. Ends stay clipped at `to`.
 */
export function shiftsFrom(schedule: Schedule, from: Date, to: Date): Shift[] {
  return planShiftsFrom(schedule, from, to).compute();
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

/** The result of {@link timeline}. */
export interface Timeline {
  final: Shift[];
  rotations: { rotationId: string; shifts: Shift[] }[];
}

/** {@link timeline}, planned: a caller checks `pieces` against its limit, then computes. */
export function planTimeline(schedule: Schedule, from: Date, to: Date): TimelinePlan<Timeline> {
  const reach = { fromMs: millisOf(from, 'from'), toMs: millisOf(to, 'to') };
  const compiled = compile(schedule, reach);
  return {
    pieces: timelineCostOf(compiled, reach.fromMs, reach.toMs),
    compute: () => {
      const { final, rotations } = timelineOf(compiled, reach.fromMs, reach.toMs);
      return {
        final: final.map(toShift),
        rotations: rotations.map((r) => ({
          rotationId: r.rotationId,
          shifts: r.pieces.map(toShift),
        })),
      };
    },
  };
}

/**
 * The shifts within [from, to): `final` is the merged result (rotations combined as the schedule says, overrides
 * applied, adjacent shifts of one user merged; overlapping in "all" mode); `rotations` has each rotation's own shifts (time restrictions applied, no overrides), in the order of
 * `schedule.rotations`. All clipped to [from, to).
 */
export function timeline(schedule: Schedule, from: Date, to: Date): Timeline {
  return planTimeline(schedule, from, to).compute();
}
