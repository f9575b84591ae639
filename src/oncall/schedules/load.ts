import type { Queryable } from '../../db/database.js';
import type { ScheduleOverrideRow, ScheduleRotationRow } from '../../db/schema.js';
import type { Override, Rotation, Schedule } from '../schedule.js';
import { schedulesRepository as repo } from './repository.js';

/**
 * Stored schedules as the values src/oncall/schedule.ts computes with. Participants and override users are
 * user ids. Users deleted since a rotation was saved drop out of it (the rotation goes on with the others),
 * and rotations deleted since an override was saved drop out of its rotation list, so what is loaded always
 * passes validateSchedule.
 */

export interface LoadedSchedule {
  id: string;
  name: string;
  enabled: boolean;
  /** What the engine pages from: empty (nobody on call, ever) while the schedule is disabled. */
  schedule: Schedule;
}

export interface ScheduleParts {
  rotations: ScheduleRotationRow[];
  overrides: ScheduleOverrideRow[];
  /** The users the rotations and overrides name that still exist, by id. */
  users: Map<string, { id: string; username: string; full_name: string }>;
}

export async function loadScheduleParts(
  q: Queryable,
  orgId: string,
  scheduleId: string,
): Promise<ScheduleParts> {
  const parts = await loadManyScheduleParts(q, orgId, [scheduleId]);
  return parts.get(scheduleId) ?? { rotations: [], overrides: [], users: new Map() };
}

/** The parts of several schedules in three queries, whatever their number. */
export async function loadManyScheduleParts(
  q: Queryable,
  orgId: string,
  scheduleIds: readonly string[],
): Promise<Map<string, ScheduleParts>> {
  const [rotations, overrides] = await Promise.all([
    repo.rotationsOf(q, scheduleIds),
    repo.overridesOf(q, scheduleIds),
  ]);
  const ids = [...rotations.flatMap((r) => r.participants), ...overrides.map((o) => o.user_id)];
  const users = new Map((await repo.usersByIds(q, orgId, ids)).map((u) => [u.id, u]));
  return new Map(
    scheduleIds.map((id) => [
      id,
      {
        rotations: rotations.filter((r) => r.schedule_id === id),
        overrides: overrides.filter((o) => o.schedule_id === id),
        users,
      },
    ]),
  );
}

export function rotationOf(row: ScheduleRotationRow, knownUsers: ReadonlyMap<string, unknown>): Rotation {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    length: row.length,
    participants: row.participants.filter((id) => knownUsers.has(id)),
    startDate: row.start_date.toISOString(),
    ...(row.end_date ? { endDate: row.end_date.toISOString() } : {}),
    ...(row.time_restriction ? { timeRestriction: row.time_restriction } : {}),
  };
}

/** The schedule as configured, whether or not it is enabled. */
export function scheduleOf(timezone: string, parts: ScheduleParts): Schedule {
  const rotationIds = new Set(parts.rotations.map((r) => r.id));
  const overrides: Override[] = [];
  for (const o of parts.overrides) {
    if (!parts.users.has(o.user_id)) continue;
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
    rotations: parts.rotations.map((r) => rotationOf(r, parts.users)),
    overrides,
  };
}

/** Nobody is on call in a disabled schedule. */
export function emptySchedule(timezone: string): Schedule {
  return { timezone, rotations: [], overrides: [] };
}

/**
 * The schedule with this id in this organization, ready for onCallAt / nextOnCall / previousOnCall
 * (participants and override users are user ids), or undefined if there is none. A disabled schedule comes
 * back with `enabled: false` and no rotations or overrides, so nobody is on call in it.
 */
export async function loadSchedule(
  q: Queryable,
  orgId: string,
  scheduleId: string,
): Promise<{ id: string; name: string; enabled: boolean; schedule: Schedule } | undefined> {
  const row = await repo.findSchedule(q, orgId, scheduleId, 'id');
  if (!row) return undefined;
  const schedule = row.enabled
    ? scheduleOf(row.timezone, await loadScheduleParts(q, orgId, row.id))
    : emptySchedule(row.timezone);
  return { id: row.id, name: row.name, enabled: row.enabled, schedule };
}
