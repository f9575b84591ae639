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
 * - All instants in and out are ISO 8601 strings; inputs must carry "Z" or an offset. Outputs are UTC ('Z').
 *   The computing functions throw a RangeError listing the problems of an invalid schedule (those that
 *   {@link validateSchedule} reports) or of an invalid Date argument.
 *
 * The computation lives in schedule/, one step per module; this module is the public API over it. The rules
 * stay here rather than beside the code that implements each of them: together they are the one contract
 * that callers and the tests rely on.
 */
import { compile, compileRestriction, millisOf, type Compiled, type Reach } from './schedule/compiled.js';
import { onCallsOf, timelineOf, toShift } from './schedule/combine.js';
import { DAY_MS } from './schedule/durations.js';
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

export const DEFAULT_NEXT_ON_CALL_HORIZON_DAYS = 90;
const NEXT_ON_CALL_END_SEARCH_DAYS = 366;

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

/** The whole stretch of `piece`'s user from its start, looked for up to max(horizon, 366 days) on. */
function stretchFrom(compiled: Compiled, piece: Piece, horizon: number): Piece {
  const limit = stretchLimit(horizon);
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
  const limit = stretchLimit(horizon);
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

/** How far a stretch's end or start is looked for (see stretchFrom and stretchUntil). */
function stretchLimit(horizon: number): number {
  return Math.max(horizon, NEXT_ON_CALL_END_SEARCH_DAYS * DAY_MS);
}

function nextOnCallsReachMs(after: Date, horizonDays: number): Reach {
  const ms = millisOf(after, 'after');
  const horizon = checkedHorizon(horizonDays);
  // A newcomer starts before the horizon, and their stretch is followed up to stretchLimit after that.
  return { fromMs: ms, toMs: ms + horizon + stretchLimit(horizon) };
}

/** The reach of {@link nextOnCalls} and {@link nextOnCall}. */
export function nextOnCallsReach(
  after: Date,
  horizonDays: number = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS,
): OverrideReach {
  return reachOf(nextOnCallsReachMs(after, horizonDays));
}

function previousOnCallsReachMs(at: Date, horizonDays: number): Reach {
  const ms = millisOf(at, 'at');
  const horizon = checkedHorizon(horizonDays);
  return { fromMs: ms - horizon - stretchLimit(horizon), toMs: ms + 1 };
}

/** The reach of {@link previousOnCalls} and {@link previousOnCall}. */
export function previousOnCallsReach(
  at: Date,
  horizonDays: number = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS,
): OverrideReach {
  return reachOf(previousOnCallsReachMs(at, horizonDays));
}

/**
 * The reach of everything an escalation may ask about a schedule at `at` with the default horizons:
 * {@link onCallsAt}, {@link nextOnCalls} and {@link previousOnCalls}.
 */
export function escalationReach(at: Date): OverrideReach {
  const horizon = DEFAULT_NEXT_ON_CALL_HORIZON_DAYS;
  return {
    from: previousOnCallsReach(at, horizon).from,
    to: nextOnCallsReach(at, horizon).to,
  };
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
  const reach = nextOnCallsReachMs(after, horizonDays);
  const compiled = compile(schedule, reach);
  const ms = reach.fromMs;
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
  const reach = previousOnCallsReachMs(at, horizonDays);
  const compiled = compile(schedule, reach);
  const ms = reach.toMs - 1;
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

function shiftsFromReachMs(from: Date, to: Date): Reach {
  // The first shift's start is looked for up to stretchLimit(0) before `from`.
  return { fromMs: millisOf(from, 'from') - stretchLimit(0), toMs: millisOf(to, 'to') };
}

/** The reach of {@link shiftsFrom}. */
export function shiftsFromReach(from: Date, to: Date): OverrideReach {
  return reachOf(shiftsFromReachMs(from, to));
}

/**
 * The final shifts overlapping [from, to), as {@link timeline} gives them but for their starts: a shift
 * under way at `from` starts where its user's stretch really began (looked for up to 366 days back), so
 * that it reads the same whatever `from` is. A calendar feed whose window moves with the clock names each
 * shift by its start, and would otherwise see its first shift start anew on every fetch. Ends stay
 * clipped at `to`.
 */
export function shiftsFrom(schedule: Schedule, from: Date, to: Date): Shift[] {
  const reach = shiftsFromReachMs(from, to);
  const compiled = compile(schedule, reach);
  const fromMs = millisOf(from, 'from');
  const { final } = timelineOf(compiled, fromMs, reach.toMs);
  return final.map((p) => toShift(p.start === fromMs ? stretchUntil(compiled, p, 0) : p));
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
  const reach = { fromMs: millisOf(from, 'from'), toMs: millisOf(to, 'to') };
  const { final, rotations } = timelineOf(compile(schedule, reach), reach.fromMs, reach.toMs);
  return {
    final: final.map(toShift),
    rotations: rotations.map((r) => ({
      rotationId: r.rotationId,
      shifts: r.pieces.map(toShift),
    })),
  };
}
