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
 * Schedules with their rotations (participants, time restrictions), matched by name. A schedule whose
 * rotations differ gets Opsgenie's rotations in place of its own. Every schedule imported from Opsgenie
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

/** What Vigil's API is sent: nobody on call in an escalation's turn until the escalation exists. */
function withPlaceholders(desired: DesiredSchedule) {
  return {
    ...desired,
    rotations: desired.rotations.map((r) => ({
      ...r,
      participants: r.participants.map((p): VigilParticipant => (isPending(p) ? { type: 'none' } : p)),
    })),
  };
}

/**
 * The desired schedule as compared with Vigil's: an escalation's turn is left to schedule-escalations.ts
 * when Vigil has an escalation there, or the placeholder a run before left (when that escalation was
 * not imported), so that neither updates the whole schedule on every run.
 */
function comparedWith(desired: DesiredSchedule, have: ReturnType<typeof comparableVigil>) {
  return {
    ...desired,
    rotations: desired.rotations.map((r, i) => ({
      ...r,
      participants: r.participants.map((p, j) => {
        const theirs = have.rotations[i]?.participants[j];
        return isPending(p) && (theirs?.type === 'escalation' || theirs?.type === 'none') ? theirs : p;
      }),
    })),
  };
}

/** A rotation with an escalation among its participants, by its place in the schedule. */
export interface EscalationRotation {
  index: number;
  name: string;
  participants: DesiredParticipant[];
}

/** The schedules imported, with their rotations' names by Opsgenie id: for their overrides. */
export interface ImportedSchedule {
  sourceId: string;
  name: string;
  rotationNames: Map<string, string>;
  /** Vigil had it before this run (a schedule just made has no overrides yet). */
  existedBefore: boolean;
  /** Its rotations were (or in a dry run would be) sent whole, with `none` in escalations' turns. */
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
    const rotationNames = new Map(
      (s.rotations ?? []).flatMap((r, i) => (r.id ? [[r.id, desired.rotations[i]?.name ?? '']] : [])),
    );
    const name = have?.name ?? s.name;
    const vigils = have && comparableVigil(have);
    const unchanged = vigils !== undefined && sameJson(vigils, comparedWith(desired, vigils));
    const sent = withPlaceholders(desired);
    if (unchanged) {
      ctx.report.record('schedule', s.name, 'unchanged');
    } else if (have) {
      if (!ctx.dryRun)
        await ctx.target.patch(`/v2/schedules/${enc(have.id)}`, {
          ...sent,
          ...(sent.ownerTeam ? {} : { ownerTeam: null }),
        });
      ctx.report.record('schedule', s.name, 'updated');
    } else {
      if (!ctx.dryRun) await ctx.target.post('/v2/schedules', { name: s.name, ...sent });
      ctx.report.record('schedule', s.name, 'created');
    }
    ctx.schedules.set(s.id, name);
    imported.push({
      sourceId: s.id,
      name,
      rotationNames,
      existedBefore: have !== undefined,
      rotationsWritten: !unchanged,
      escalationRotations: desired.rotations.flatMap((r, index) =>
        r.participants.some(isPending) ? [{ index, name: r.name, participants: r.participants }] : [],
      ),
    });
  });
  return imported;
}
