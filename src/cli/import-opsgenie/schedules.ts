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
 */

const ROTATION_TYPES = new Set(['hourly', 'daily', 'weekly']);

function rotationOf(ctx: ImportContext, r: RotationIn, index: number) {
  const name = r.name?.trim() || `Rotation ${index + 1}`;
  if (!ROTATION_TYPES.has(r.type)) throw new Skip(`rotation ${name} is of type ${r.type}, which Vigil lacks`);
  const participants = (r.participants ?? []).map((p) => {
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
      default:
        // Escalations are imported after schedules (they notify schedules), so none exists here yet.
        throw new Skip(
          `rotation ${name} has a participant of type ${p.type}, which the import does not bring (escalations come after schedules); add it in Vigil afterwards`,
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
        participants: (r.participants ?? []).map((p) =>
          p.type === 'none'
            ? { type: 'none' }
            : p.type === 'team'
              ? { type: 'team', name: p.name ?? '' }
              : { type: 'user', username: p.username ?? '' },
        ),
        ...(timeRestriction ? { timeRestriction } : {}),
      };
    }),
    rotationsCombine: s.rotationsCombine ?? 'all',
  };
}

/** The schedules imported, with their rotations' names by Opsgenie id: for their overrides. */
export interface ImportedSchedule {
  sourceId: string;
  name: string;
  rotationNames: Map<string, string>;
  /** Vigil had it before this run (a schedule just made has no overrides yet). */
  existedBefore: boolean;
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
    if (have && sameJson(comparableVigil(have), desired)) {
      ctx.report.record('schedule', s.name, 'unchanged');
    } else if (have) {
      if (!ctx.dryRun)
        await ctx.target.patch(`/v2/schedules/${enc(have.id)}`, {
          ...desired,
          ...(desired.ownerTeam ? {} : { ownerTeam: null }),
        });
      ctx.report.record('schedule', s.name, 'updated');
    } else {
      if (!ctx.dryRun) await ctx.target.post('/v2/schedules', { name: s.name, ...desired });
      ctx.report.record('schedule', s.name, 'created');
    }
    ctx.schedules.set(s.id, name);
    imported.push({ sourceId: s.id, name, rotationNames, existedBefore: have !== undefined });
  });
  return imported;
}
