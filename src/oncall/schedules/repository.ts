import { sql } from 'kysely';
import { type Queryable, isUuid } from '../../db/database.js';
import type {
  RotationParticipantColumn,
  RotationsCombineColumn,
  RotationTypeColumn,
} from '../../db/schema.js';
import type { TimeRestriction } from '../schedule.js';

/** The SQL for schedules, their rotations and overrides. No rules here: see service.ts. */

export interface RotationValues {
  name: string;
  type: RotationTypeColumn;
  length: number;
  participants: RotationParticipantColumn[];
  start_date: Date;
  end_date: Date | null;
  time_restriction: TimeRestriction | null;
}

export interface OverrideValues {
  /** null: nobody (Opsgenie's `none`). */
  user_id: string | null;
  start_date: Date;
  end_date: Date;
  rotation_ids: string[] | null;
}

function restrictionJson(restriction: TimeRestriction | null): string | null {
  return restriction === null ? null : JSON.stringify(restriction);
}

export const schedulesRepository = {
  async insertSchedule(
    db: Queryable,
    row: {
      org_id: string;
      name: string;
      description: string;
      timezone: string;
      enabled: boolean;
      owner_team_id: string | null;
      rotations_combine?: RotationsCombineColumn;
    },
  ) {
    return db.insertInto('schedules').values(row).returningAll().executeTakeFirstOrThrow();
  },

  async findSchedule(
    db: Queryable,
    orgId: string,
    identifier: string,
    by: 'id' | 'name',
    lock?: 'key share',
  ) {
    if (by === 'id' && !isUuid(identifier)) return undefined;
    let query = db
      .selectFrom('schedules as s')
      .leftJoin('teams as t', 't.id', 's.owner_team_id')
      .selectAll('s')
      .select('t.name as owner_team_name')
      .where('s.org_id', '=', orgId)
      .where((eb) =>
        by === 'id' ? eb('s.id', '=', identifier) : eb(sql`lower(s.name)`, '=', identifier.toLowerCase()),
      );
    // Only the schedule's row: the owner team is joined for its name, not to be locked.
    if (lock) query = query.forKeyShare('s');
    return query.executeTakeFirst();
  },

  /** The schedule a request names as {id} or {name}. */
  findScheduleByRef(db: Queryable, orgId: string, ref: { id?: string; name?: string }, lock?: 'key share') {
    return this.findSchedule(db, orgId, ref.id ?? ref.name ?? '', ref.id !== undefined ? 'id' : 'name', lock);
  },

  /** Locks the schedule's row so that concurrent edits of its rotations and overrides queue up. */
  async lockSchedule(db: Queryable, id: string): Promise<void> {
    await db.selectFrom('schedules').select('id').where('id', '=', id).forUpdate().execute();
  },

  async listSchedules(db: Queryable, orgId: string) {
    return db
      .selectFrom('schedules as s')
      .leftJoin('teams as t', 't.id', 's.owner_team_id')
      .selectAll('s')
      .select('t.name as owner_team_name')
      .where('s.org_id', '=', orgId)
      .orderBy('s.name')
      .execute();
  },

  async updateSchedule(
    db: Queryable,
    id: string,
    changes: {
      name?: string;
      description?: string;
      timezone?: string;
      enabled?: boolean;
      owner_team_id?: string | null;
      rotations_combine?: RotationsCombineColumn;
    },
  ): Promise<void> {
    await db
      .updateTable('schedules')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  },

  async deleteSchedule(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('schedules').where('id', '=', id).execute();
  },

  /** Rotations of the given schedules in layer order (lowest first). */
  async rotationsOf(db: Queryable, scheduleIds: readonly string[]) {
    if (scheduleIds.length === 0) return [];
    return db
      .selectFrom('schedule_rotations')
      .selectAll()
      .where('schedule_id', 'in', scheduleIds)
      .orderBy('schedule_id')
      .orderBy('position')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },

  async findRotation(db: Queryable, scheduleId: string, rotationId: string) {
    if (!isUuid(rotationId)) return undefined;
    return db
      .selectFrom('schedule_rotations')
      .selectAll()
      .where('schedule_id', '=', scheduleId)
      .where('id', '=', rotationId)
      .executeTakeFirst();
  },

  async insertRotations(db: Queryable, scheduleId: string, rotations: readonly RotationValues[]) {
    if (rotations.length === 0) return [];
    const top = await db
      .selectFrom('schedule_rotations')
      .select((eb) => eb.fn.max('position').as('top'))
      .where('schedule_id', '=', scheduleId)
      .executeTakeFirst();
    const first = top?.top === null || top?.top === undefined ? 0 : Number(top.top) + 1;
    return db
      .insertInto('schedule_rotations')
      .values(
        rotations.map((r, i) => ({
          schedule_id: scheduleId,
          position: first + i,
          name: r.name,
          type: r.type,
          length: r.length,
          participants: JSON.stringify(r.participants),
          start_date: r.start_date,
          end_date: r.end_date,
          time_restriction: restrictionJson(r.time_restriction),
        })),
      )
      .returningAll()
      .execute();
  },

  async updateRotation(db: Queryable, id: string, values: RotationValues): Promise<void> {
    await db
      .updateTable('schedule_rotations')
      .set({
        ...values,
        participants: JSON.stringify(values.participants),
        time_restriction: restrictionJson(values.time_restriction),
      })
      .where('id', '=', id)
      .execute();
  },

  async deleteRotations(db: Queryable, scheduleId: string, rotationIds?: readonly string[]): Promise<void> {
    let query = db.deleteFrom('schedule_rotations').where('schedule_id', '=', scheduleId);
    if (rotationIds) {
      if (rotationIds.length === 0) return;
      query = query.where('id', 'in', rotationIds);
    }
    await query.execute();
  },

  /**
   * Takes deleted rotations out of the overrides that named them; an override left naming none is deleted
   * (it replaced people only in rotations that no longer exist).
   */
  async forgetRotationsInOverrides(
    db: Queryable,
    scheduleId: string,
    rotationIds: readonly string[],
  ): Promise<void> {
    if (rotationIds.length === 0) return;
    const removed = sql`ARRAY[${sql.join(rotationIds.map((id) => sql`${id}::uuid`))}]`;
    await db
      .updateTable('schedule_overrides')
      .set({
        rotation_ids: sql<
          string[]
        >`ARRAY(SELECT r FROM unnest(rotation_ids) AS r WHERE r <> ALL(${removed}))`,
      })
      .where('schedule_id', '=', scheduleId)
      .where(sql<boolean>`rotation_ids && ${removed}`)
      .execute();
    await db
      .deleteFrom('schedule_overrides')
      .where('schedule_id', '=', scheduleId)
      .where(sql<boolean>`cardinality(rotation_ids) = 0`)
      .execute();
  },

  /**
   * Overrides in the order they were made: a later one wins where they overlap. With `overlapping`, only
   * those whose window overlaps [from, to): a schedule keeps every override it ever had, and one
   * computation needs only those within its reach.
   */
  async overridesOf(db: Queryable, scheduleIds: readonly string[], overlapping?: { from: Date; to: Date }) {
    if (scheduleIds.length === 0) return [];
    let query = db.selectFrom('schedule_overrides').selectAll().where('schedule_id', 'in', scheduleIds);
    if (overlapping) {
      query = query.where('end_date', '>', overlapping.from).where('start_date', '<', overlapping.to);
    }
    return query.orderBy('created_at').orderBy('id').execute();
  },

  async findOverride(db: Queryable, scheduleId: string, alias: string) {
    return db
      .selectFrom('schedule_overrides')
      .selectAll()
      .where('schedule_id', '=', scheduleId)
      .where('alias', '=', alias)
      .executeTakeFirst();
  },

  /** How many of the schedule's overrides end after `now`, leaving out the one with id `except`. */
  async countOpenOverrides(db: Queryable, scheduleId: string, now: Date, except?: string): Promise<number> {
    let query = db
      .selectFrom('schedule_overrides')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('schedule_id', '=', scheduleId)
      .where('end_date', '>', now);
    if (except !== undefined) query = query.where('id', '!=', except);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.count);
  },

  async insertOverride(db: Queryable, scheduleId: string, alias: string, values: OverrideValues) {
    return db
      .insertInto('schedule_overrides')
      .values({ schedule_id: scheduleId, alias, ...values })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async updateOverride(db: Queryable, id: string, values: OverrideValues): Promise<void> {
    await db.updateTable('schedule_overrides').set(values).where('id', '=', id).execute();
  },

  async deleteOverride(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('schedule_overrides').where('id', '=', id).execute();
  },

  /** The teams among these ids that still exist in the organization. */
  async teamsByIds(db: Queryable, orgId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db
      .selectFrom('teams')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', [...new Set(ids)])
      .execute();
  },

  /** The escalations among these ids that still exist in the organization. */
  async escalationsByIds(db: Queryable, orgId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db
      .selectFrom('escalations')
      .select(['id', 'name', 'rules'])
      .where('org_id', '=', orgId)
      .where('id', 'in', [...new Set(ids)])
      .execute();
  },

  /**
   * The members of these teams who can be notified, by username: a blocked user is left out, as the
   * escalation engine leaves them out of a team's recipients (src/engine/escalation/recipients.ts).
   */
  async teamMembers(db: Queryable, teamIds: readonly string[]) {
    if (teamIds.length === 0) return [];
    return db
      .selectFrom('team_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.team_id', 'u.id', 'u.username', 'u.full_name'])
      .where('m.team_id', 'in', [...new Set(teamIds)])
      .where('u.blocked', '=', false)
      .orderBy('u.username')
      .execute();
  },

  /** The users among these ids that still exist in the organization. */
  async usersByIds(db: Queryable, orgId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db
      .selectFrom('users')
      .select(['id', 'username', 'full_name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', [...new Set(ids)])
      .execute();
  },
};
