import type { Queryable } from '../../db/database.js';
import type { ScheduleOverrideRow, ScheduleRotationRow } from '../../db/schema.js';
import type { EscalationRule } from '../model.js';
import type { Override, OverrideReach, Rotation, RotationsCombine, Schedule } from '../schedule.js';
import { participantKey, type StoredParticipant } from './participants.js';
import { schedulesRepository as repo } from './repository.js';

/**
 * Stored schedules as the values src/oncall/schedule.ts computes with. Participants are keys (see
 * participants.ts: user ids, team and escalation keys, null for `none`); override users are user ids (null
 * for `none`). Users,
 * teams and escalations deleted since a rotation was saved drop out of it (the rotation goes on with the
 * others), and rotations deleted since an override was saved drop out of its rotation list, so what is loaded
 * always passes validateSchedule.
 */

export interface LoadedSchedule {
  id: string;
  name: string;
  enabled: boolean;
  /** What the engine pages from: empty (nobody on call, ever) while the schedule is disabled. */
  schedule: Schedule;
}

/**
 * Which overrides to load: every one (to list them), none (for what shows only rotations), or those
 * overlapping the reach of a computation (see OverrideReach in src/oncall/schedule.ts).
 */
export type OverrideSelection = 'all' | 'none' | OverrideReach;

export interface ScheduleParts {
  rotations: ScheduleRotationRow[];
  /** As selected when loaded (see OverrideSelection). */
  overrides: ScheduleOverrideRow[];
  /** The users the rotations and overrides name that still exist, by id. */
  users: Map<string, { id: string; username: string; full_name: string }>;
  /** The teams the rotations name that still exist, by id. */
  teams: Map<string, { id: string; name: string }>;
  /** The escalations the rotations name that still exist, by id. */
  escalations: Map<string, { id: string; name: string; rules: EscalationRule[] }>;
}

/** Nothing loaded: a schedule without rotations or overrides. */
export function noParts(): ScheduleParts {
  return { rotations: [], overrides: [], users: new Map(), teams: new Map(), escalations: new Map() };
}

/** The ids of one type of participant among these rotations. */
function idsOf(rotations: readonly ScheduleRotationRow[], type: 'user' | 'team' | 'escalation'): string[] {
  return rotations.flatMap((r) => r.participants.flatMap((p) => (p.type === type ? [p.id] : [])));
}

/** The users, teams and escalations these rotations (and overrides' users) name that still exist. */
export async function participantsNamed(
  q: Queryable,
  orgId: string,
  rotations: readonly ScheduleRotationRow[],
  overrideUsers: readonly (string | null)[] = [],
): Promise<Pick<ScheduleParts, 'users' | 'teams' | 'escalations'>> {
  const [users, teams, escalations] = await Promise.all([
    repo.usersByIds(q, orgId, [
      ...idsOf(rotations, 'user'),
      ...overrideUsers.filter((id): id is string => id !== null),
    ]),
    repo.teamsByIds(q, orgId, idsOf(rotations, 'team')),
    repo.escalationsByIds(q, orgId, idsOf(rotations, 'escalation')),
  ]);
  return {
    users: new Map(users.map((u) => [u.id, u])),
    teams: new Map(teams.map((t) => [t.id, t])),
    escalations: new Map(escalations.map((e) => [e.id, e])),
  };
}

/** Whether the participant still exists (`none` always does). */
export function stillExists(
  p: StoredParticipant,
  named: Pick<ScheduleParts, 'users' | 'teams' | 'escalations'>,
): boolean {
  switch (p.type) {
    case 'none':
      return true;
    case 'user':
      return named.users.has(p.id);
    case 'team':
      return named.teams.has(p.id);
    case 'escalation':
      return named.escalations.has(p.id);
  }
}

export async function loadScheduleParts(
  q: Queryable,
  orgId: string,
  scheduleId: string,
  overrides: OverrideSelection,
): Promise<ScheduleParts> {
  const parts = await loadManyScheduleParts(q, orgId, [scheduleId], overrides);
  return parts.get(scheduleId) ?? noParts();
}

/** The parts of several schedules in three queries, whatever their number. */
export async function loadManyScheduleParts(
  q: Queryable,
  orgId: string,
  scheduleIds: readonly string[],
  selection: OverrideSelection,
): Promise<Map<string, ScheduleParts>> {
  const [rotations, overrides] = await Promise.all([
    repo.rotationsOf(q, scheduleIds),
    selection === 'none' ? [] : repo.overridesOf(q, scheduleIds, selection === 'all' ? undefined : selection),
  ]);
  const named = await participantsNamed(
    q,
    orgId,
    rotations,
    overrides.map((o) => o.user_id),
  );
  return new Map(
    scheduleIds.map((id) => [
      id,
      {
        rotations: rotations.filter((r) => r.schedule_id === id),
        overrides: overrides.filter((o) => o.schedule_id === id),
        ...named,
      },
    ]),
  );
}

export function rotationOf(
  row: ScheduleRotationRow,
  named: Pick<ScheduleParts, 'users' | 'teams' | 'escalations'>,
): Rotation {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    length: row.length,
    participants: row.participants.filter((p) => stillExists(p, named)).map(participantKey),
    startDate: row.start_date.toISOString(),
    ...(row.end_date ? { endDate: row.end_date.toISOString() } : {}),
    ...(row.time_restriction ? { timeRestriction: row.time_restriction } : {}),
  };
}

/** The schedule as configured (its rotations combined as `rotationsCombine` says), whether or not it is enabled. */
export function scheduleOf(
  timezone: string,
  parts: ScheduleParts,
  rotationsCombine: RotationsCombine,
): Schedule {
  const rotationIds = new Set(parts.rotations.map((r) => r.id));
  const overrides: Override[] = [];
  for (const o of parts.overrides) {
    if (o.user_id !== null && !parts.users.has(o.user_id)) continue;
    const base = {
      user: o.user_id,
      startDate: o.start_date.toISOString(),
      endDate: o.end_date.toISOString(),
    };
    if (o.rotation_ids === null) {
      overrides.push(base);
      continue;
    }
    const kept = o.rotation_ids.filter((id) => rotationIds.has(id));
    if (kept.length > 0) overrides.push({ ...base, rotationIds: kept });
  }
  return {
    timezone,
    rotations: parts.rotations.map((r) => rotationOf(r, parts)),
    overrides,
    rotationsCombine,
  };
}

/** Nobody is on call in a disabled schedule. */
export function emptySchedule(timezone: string): Schedule {
  return { timezone, rotations: [], overrides: [] };
}

/**
 * The schedule with this id in this organization, ready for onCallAt / nextOnCall / previousOnCall
 * (participants and override users are user ids), or undefined if there is none. A disabled schedule comes
 * back with `enabled: false` and no rotations or overrides, so nobody is on call in it. `reach`: the
 * computations it is loaded for reach no further (onCallsReach, nextOnCallsReach and the like in src/oncall/schedule.ts), so
 * only the overrides overlapping it are loaded; without it, every override the schedule ever had is.
 */
export async function loadSchedule(
  q: Queryable,
  orgId: string,
  scheduleId: string,
  reach?: OverrideReach,
): Promise<{ id: string; name: string; enabled: boolean; schedule: Schedule } | undefined> {
  const row = await repo.findSchedule(q, orgId, scheduleId, 'id');
  if (!row) return undefined;
  const schedule = row.enabled
    ? scheduleOf(
        row.timezone,
        await loadScheduleParts(q, orgId, row.id, reach ?? 'all'),
        row.rotations_combine,
      )
    : emptySchedule(row.timezone);
  return { id: row.id, name: row.name, enabled: row.enabled, schedule };
}
