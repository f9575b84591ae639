import {
  eachItem,
  enc,
  readList,
  resolveNamed,
  resolveUser,
  sameJson,
  Skip,
  type ImportContext,
} from './context.js';
import { instantOf, timeRestrictionOf } from './normalize.js';
import { ScheduleShape, shaped, type RotationIn, type ScheduleIn } from './shapes.js';

/**
 * Schedules with their rotations (participants, time restrictions), matched by name. A schedule Vigil
 * has is changed without replacing its rotations (which would delete every override bound to them): each
 * rotation, matched by name, is changed in place, keeping its id and its overrides; one Opsgenie lacks is
 * deleted, one Vigil lacks added. Every schedule imported from Opsgenie
 * combines its rotations as Opsgenie does (rotationsCombine "all": everyone each rotation has is on call),
 * also one that Vigil had as "layers" before; from another Vigil, a "layers" schedule stays so.
 *
 * Escalations are imported after schedules (their rules notify schedules), so an escalation in a rotation
 * cannot be named yet: the rotation is made with nobody on call (`none`) in that turn, keeping its place
 * and its other participants, and schedule-escalations.ts sets the escalation once it exists.
 */

const ROTATION_TYPES = new Set(['hourly', 'daily', 'weekly']);

/** A rotation participant as Vigil's API takes it, and as Vigil's answers are compared. */
export type VigilParticipant =
  { type: 'none' } | { type: 'user'; username: string } | { type: 'team' | 'escalation'; name: string };

/** An escalation in a rotation as the source names it, to be named in Vigil once escalations exist. */
export interface PendingEscalation {
  type: 'escalation';
  pending: { id?: string | null; name?: string | null };
}

export type DesiredParticipant = VigilParticipant | PendingEscalation;

export const isPending = (p: DesiredParticipant): p is PendingEscalation => 'pending' in p;

type ParticipantIn = NonNullable<RotationIn['participants']>[number];

/** Vigil's participant as `rotationOf` gives one. */
export function comparableParticipant(p: ParticipantIn): VigilParticipant {
  switch (p.type) {
    case 'none':
      return { type: 'none' };
    case 'team':
    case 'escalation':
      return { type: p.type, name: p.name ?? '' };
    default:
      return { type: 'user', username: p.username ?? '' };
  }
}

function rotationOf(ctx: ImportContext, r: RotationIn, index: number) {
  const name = r.name?.trim() || `Rotation ${index + 1}`;
  if (!ROTATION_TYPES.has(r.type)) throw new Skip(`rotation ${name} is of type ${r.type}, which Vigil lacks`);
  const participants = (r.participants ?? []).map((p): DesiredParticipant => {
    switch (p.type) {
      case 'none':
        return { type: 'none' as const };
      case 'team': {
        const team = resolveNamed(ctx.teams, 'team', p);
        if (!team.ok) throw new Skip(`rotation ${name}: ${team.why}`);
        return { type: 'team' as const, name: team.value };
      }
      case 'user': {
        const user = resolveUser(ctx, p);
        if (!user.ok) throw new Skip(`rotation ${name}: ${user.why}`);
        return { type: 'user' as const, username: user.value };
      }
      case 'escalation':
        return { type: 'escalation', pending: { id: p.id, name: p.name } };
      default:
        throw new Skip(
          `rotation ${name} has a participant of type ${p.type}, and Vigil's are users, teams, escalations and none`,
        );
    }
  });
  const startDate = instantOf(r.startDate);
  if (!startDate) throw new Skip(`rotation ${name} has no start date Vigil can read`);
  const endDate = instantOf(r.endDate);
  const timeRestriction = timeRestrictionOf(r.timeRestriction);
  return {
    name,
    startDate,
    ...(endDate ? { endDate } : {}),
    type: r.type,
    length: r.length ?? 1,
    participants,
    ...(timeRestriction ? { timeRestriction } : {}),
  };
}

function desiredOf(ctx: ImportContext, s: ScheduleIn) {
  let ownerTeam: { name: string } | undefined;
  if (s.ownerTeam && (s.ownerTeam.id || s.ownerTeam.name)) {
    const team = resolveNamed(ctx.teams, 'team', s.ownerTeam);
    if (!team.ok) throw new Skip(`its owner ${team.why}`);
    ownerTeam = { name: team.value };
  }
  return {
    description: s.description ?? '',
    timezone: s.timezone || 'UTC',
    enabled: s.enabled !== false,
    ...(ownerTeam ? { ownerTeam } : {}),
    rotations: (s.rotations ?? []).map((r, i) => rotationOf(ctx, r, i)),
    // Opsgenie's schedules are cumulative; only a Vigil source says it layers its rotations.
    rotationsCombine: s.rotationsCombine === 'layers' ? 'layers' : 'all',
  };
}

/** Vigil's schedule, brought to the shape of `desiredOf`. */
function comparableVigil(s: ScheduleIn) {
  return {
    description: s.description ?? '',
    timezone: s.timezone || 'UTC',
    enabled: s.enabled !== false,
    ...(s.ownerTeam?.name ? { ownerTeam: { name: s.ownerTeam.name } } : {}),
    rotations: (s.rotations ?? []).map((r, i) => {
      const timeRestriction = timeRestrictionOf(r.timeRestriction);
      const endDate = instantOf(r.endDate);
      return {
        name: r.name?.trim() || `Rotation ${i + 1}`,
        startDate: instantOf(r.startDate),
        ...(endDate ? { endDate } : {}),
        type: r.type,
        length: r.length ?? 1,
        participants: (r.participants ?? []).map(comparableParticipant),
        ...(timeRestriction ? { timeRestriction } : {}),
      };
    }),
    rotationsCombine: s.rotationsCombine ?? 'all',
  };
}

type DesiredSchedule = ReturnType<typeof desiredOf>;
type DesiredRotation = DesiredSchedule['rotations'][number];
type ComparableRotation = ReturnType<typeof comparableVigil>['rotations'][number];

/** What Vigil's API is sent for a rotation: nobody on call in an escalation's turn until it exists. */
function rotationSent(r: DesiredRotation) {
  return {
    ...r,
    participants: r.participants.map((p): VigilParticipant => (isPending(p) ? { type: 'none' } : p)),
  };
}

/** What Vigil's API is sent: nobody on call in an escalation's turn until the escalation exists. */
function withPlaceholders(desired: DesiredSchedule) {
  return { ...desired, rotations: desired.rotations.map(rotationSent) };
}

/**
 * The desired rotation as compared with Vigil's: an escalation's turn is left to schedule-escalations.ts
 * when Vigil has an escalation there, or the placeholder a run before left (when that escalation was not
 * imported), so that neither changes the rotation on every run.
 */
function comparedWith(desired: DesiredRotation, have: ComparableRotation | undefined): DesiredRotation {
  return {
    ...desired,
    participants: desired.participants.map((p, j) => {
      const theirs = have?.participants[j];
      return isPending(p) && (theirs?.type === 'escalation' || theirs?.type === 'none') ? theirs : p;
    }),
  };
}

/** The schedule's own fields, without its rotations. */
function fieldsOf({
  rotations: _rotations,
  ...fields
}: DesiredSchedule | ReturnType<typeof comparableVigil>) {
  return fields;
}

const ROTATION_FIELDS = [
  'name',
  'startDate',
  'endDate',
  'type',
  'length',
  'participants',
  'timeRestriction',
] as const;

/**
 * The fields of `have` to change to make it `desired` (as compared, escalations' turns as Vigil keeps
 * them): a field Opsgenie's rotation lacks (an end, a time restriction) is cleared with null.
 */
function rotationChanges(desired: DesiredRotation, have: ComparableRotation) {
  const compared = comparedWith(desired, have);
  const changes: Record<string, unknown> = {};
  for (const field of ROTATION_FIELDS)
    if (!sameJson(compared[field], have[field])) changes[field] = compared[field] ?? null;
  if (changes.participants) changes.participants = rotationSent(compared).participants;
  return changes;
}

/**
 * Which of Vigil's rotations each desired one is (its index in Vigil's, or undefined for one to add):
 * the first of the same name, else one Vigil has under another name that is alike in all else (renamed
 * in Opsgenie). Vigil's rotations matched by none are to be deleted. A rotation is never matched by its
 * place alone: that would move the overrides bound to it onto another rotation.
 */
function matchRotations(desired: DesiredRotation[], have: ComparableRotation[]): (number | undefined)[] {
  const taken = new Set<number>();
  const take = (found: number) => {
    if (found < 0) return undefined;
    taken.add(found);
    return found;
  };
  const byName = desired.map((d) =>
    take(have.findIndex((h, j) => !taken.has(j) && h.name.toLowerCase() === d.name.toLowerCase())),
  );
  return byName.map(
    (j, i) =>
      j ??
      take(
        have.findIndex((h, k) => {
          const d = desired[i];
          return (
            !taken.has(k) &&
            d !== undefined &&
            Object.keys(rotationChanges(d, h)).every((field) => field === 'name')
          );
        }),
      ),
  );
}

/** How Vigil's rotations are brought to Opsgenie's, one by one, and where each desired one then is. */
interface RotationPlan {
  remove: string[];
  change: { id: string; body: Record<string, unknown> }[];
  add: DesiredRotation[];
  /** Each desired rotation's index among Vigil's once the plan is carried out. */
  placeOf: number[];
  /** Each desired rotation's index among Vigil's as read (undefined: one to add). */
  wasAt: (number | undefined)[];
  /** Some rotation is sent with `none` in an escalation's turn (its participants sent, or it is added). */
  placeholders: boolean;
}

/**
 * The plan for a schedule Vigil has, or undefined when its rotations would end in another order than
 * Opsgenie's and the order counts ("layers": a higher rotation wins): Vigil's API moves no rotation, so
 * that schedule gets Opsgenie's rotations whole. In "all", as Opsgenie combines them, order counts for
 * nothing, and an added rotation becomes the top one.
 */
function planRotations(
  desired: DesiredSchedule,
  have: ReturnType<typeof comparableVigil>,
  ids: (string | undefined)[],
): RotationPlan | undefined {
  const match = matchRotations(desired.rotations, have.rotations);
  const kept = match.flatMap((j) => (j === undefined ? [] : [j])).sort((a, b) => a - b);
  const added = desired.rotations.flatMap((r, i) => (match[i] === undefined ? [i] : []));
  const placeOf = desired.rotations.map((_, i) => {
    const j = match[i];
    return j === undefined ? kept.length + added.indexOf(i) : kept.indexOf(j);
  });
  if (desired.rotationsCombine === 'layers' && placeOf.some((place, i) => place !== i)) return undefined;
  const plan: RotationPlan = { remove: [], change: [], add: [], placeOf, wasAt: match, placeholders: false };
  for (const [j, id] of ids.entries()) {
    if (kept.includes(j)) continue;
    // A rotation Vigil answered without an id cannot be changed alone.
    if (!id) return undefined;
    plan.remove.push(id);
  }
  for (const [i, r] of desired.rotations.entries()) {
    const j = match[i];
    const theirs = j === undefined ? undefined : have.rotations[j];
    if (j === undefined || !theirs) {
      plan.add.push(r);
      plan.placeholders ||= r.participants.some(isPending);
      continue;
    }
    const body = rotationChanges(r, theirs);
    if (Object.keys(body).length === 0) continue;
    const id = ids[j];
    if (!id) return undefined;
    plan.change.push({ id, body });
    plan.placeholders ||=
      Array.isArray(body.participants) && comparedWith(r, theirs).participants.some(isPending);
  }
  return plan;
}

const noChange = (plan: RotationPlan) =>
  plan.remove.length === 0 && plan.change.length === 0 && plan.add.length === 0;

/**
 * Carries out the plan for the schedule with id `id`: its own fields first (when they differ: `fields` is
 * the PATCH, an owner team Opsgenie lacks cleared with null), then its rotations, those to remove before
 * any is added (Vigil caps how many a schedule has).
 */
async function changeRotations(
  ctx: ImportContext,
  id: string,
  fields: Record<string, unknown> | undefined,
  plan: RotationPlan,
): Promise<void> {
  const schedule = `/v2/schedules/${enc(id)}`;
  if (fields) await ctx.target.patch(schedule, fields);
  for (const rotation of plan.remove) await ctx.target.delete(`${schedule}/rotations/${enc(rotation)}`);
  for (const rotation of plan.change)
    await ctx.target.patch(`${schedule}/rotations/${enc(rotation.id)}`, rotation.body);
  for (const rotation of plan.add) await ctx.target.post(`${schedule}/rotations`, rotationSent(rotation));
}

/** A rotation with an escalation among its participants, by its place in the schedule. */
export interface EscalationRotation {
  index: number;
  name: string;
  /** Its name among Vigil's rotations as they are read (a dry run carries out no rename). */
  nameRead: string;
  participants: DesiredParticipant[];
}

/** The schedules imported, with their rotations' names by Opsgenie id: for their overrides. */
export interface ImportedSchedule {
  sourceId: string;
  name: string;
  /** As Vigil's overrides name them when read: a dry run's, a renamed rotation's name as Vigil has it now. */
  rotationNames: Map<string, string>;
  /** Vigil had it before this run (a schedule just made has no overrides yet). */
  existedBefore: boolean;
  /** Some rotation's participants were (or in a dry run would be) sent with `none` in an escalation's turn. */
  rotationsWritten: boolean;
  /** The rotations whose escalations are set after escalations are imported. */
  escalationRotations: EscalationRotation[];
}

export async function importSchedules(ctx: ImportContext): Promise<ImportedSchedule[]> {
  const items = await readList(ctx, 'schedule', 'schedules', async () => {
    const got = await ctx.source.get('/v2/schedules?expand=rotation');
    return Array.isArray(got) ? got : [];
  });
  if (!items) return [];
  const existing = new Map<string, ScheduleIn>();
  const targetList = await ctx.target.get('/v2/schedules?expand=rotation');
  for (const raw of Array.isArray(targetList) ? targetList : []) {
    const got = shaped(ScheduleShape, raw);
    if (got.ok) existing.set(got.value.name.toLowerCase(), got.value);
  }
  const imported: ImportedSchedule[] = [];
  await eachItem(ctx, 'schedule', ScheduleShape, items, async (listed) => {
    // Opsgenie's list leaves rotations out unless expanded; an API that ignores expand is read one by one.
    let s = listed;
    if (s.rotations === undefined) {
      const got = shaped(ScheduleShape, await ctx.source.get(`/v2/schedules/${enc(s.id)}`));
      if (!got.ok) throw new Skip(got.why);
      s = got.value;
    }
    const desired = desiredOf(ctx, s);
    const have = existing.get(s.name.toLowerCase());
    const name = have?.name ?? s.name;
    const vigils = have && comparableVigil(have);
    const plan =
      vigils &&
      planRotations(
        desired,
        vigils,
        (have.rotations ?? []).map((r) => r.id ?? undefined),
      );
    const sameFields = vigils !== undefined && sameJson(fieldsOf(vigils), fieldsOf(desired));
    const unchanged = sameFields && plan !== undefined && noChange(plan);
    const sent = withPlaceholders(desired);
    const ownerTeam = sent.ownerTeam ? {} : { ownerTeam: null };
    if (unchanged) {
      ctx.report.record('schedule', s.name, 'unchanged');
    } else if (have && plan) {
      // Rotations are changed one by one, each keeping its id and the overrides bound to it: a PATCH of
      // the schedule with `rotations` would replace them all, and Vigil deletes their overrides with them.
      const fields = sameFields ? undefined : { ...fieldsOf(desired), ...ownerTeam };
      if (!ctx.dryRun) await changeRotations(ctx, have.id, fields, plan);
      ctx.report.record('schedule', s.name, 'updated');
    } else if (have) {
      if (!ctx.dryRun) await ctx.target.patch(`/v2/schedules/${enc(have.id)}`, { ...sent, ...ownerTeam });
      ctx.report.record('schedule', s.name, 'updated');
    } else {
      if (!ctx.dryRun) await ctx.target.post('/v2/schedules', { name: s.name, ...sent });
      ctx.report.record('schedule', s.name, 'created');
    }
    // Where the rotation is among Vigil's when schedule-escalations.ts reads them: as they are now in a
    // dry run (one to add is among those written, which a dry run does not read).
    const placeOf = (i: number) => (ctx.dryRun ? plan?.wasAt[i] : plan?.placeOf[i]) ?? i;
    // And its name there, and in Vigil's overrides: in a dry run, the one Vigil has now (a rename, a
    // change of case too, is not carried out), so that neither is taken for a rotation gone or moved.
    const nameRead = (i: number, r: DesiredRotation) => {
      const j = ctx.dryRun ? plan?.wasAt[i] : undefined;
      return (j === undefined ? undefined : vigils?.rotations[j]?.name) ?? r.name;
    };
    const rotationNames = new Map(
      (s.rotations ?? []).flatMap((r, i) => {
        const d = desired.rotations[i];
        return r.id && d ? [[r.id, nameRead(i, d)]] : [];
      }),
    );
    ctx.schedules.set(s.id, name);
    imported.push({
      sourceId: s.id,
      name,
      rotationNames,
      existedBefore: have !== undefined,
      rotationsWritten: !unchanged && (!plan || plan.placeholders),
      escalationRotations: desired.rotations.flatMap((r, i) =>
        r.participants.some(isPending)
          ? [{ index: placeOf(i), name: r.name, nameRead: nameRead(i, r), participants: r.participants }]
          : [],
      ),
    });
  });
  return imported;
}
