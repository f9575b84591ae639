import { nameKey } from '../../db/name-key.js';
import { isUuid, type Queryable } from '../../db/database.js';
import type { TeamRoleRow } from '../../db/schema.js';

/** The SQL for a team's custom roles. No rules here: see service.ts. */
export const teamRolesRepository = {
  list(q: Queryable, teamId: string): Promise<TeamRoleRow[]> {
    return q.selectFrom('team_roles').selectAll().where('team_id', '=', teamId).orderBy('name_key').execute();
  },

  /**
   * By id (a uuid, else nothing) or by name without regard to case: by `name_key`, the name as names are
   * compared (Unicode's composed form, its case folded; unique in the team, migration 0082).
   */
  async find(
    q: Queryable,
    teamId: string,
    identifier: string,
    by: 'id' | 'name',
  ): Promise<TeamRoleRow | undefined> {
    if (by === 'id' && !isUuid(identifier)) return undefined;
    return q
      .selectFrom('team_roles')
      .selectAll()
      .where('team_id', '=', teamId)
      .where((eb) => (by === 'id' ? eb('id', '=', identifier) : eb('name_key', '=', nameKey(identifier))))
      .executeTakeFirst();
  },

  /** A new role; its `name_key` is the name's. */
  insert(q: Queryable, row: { team_id: string; name: string; rights: string[] }): Promise<TeamRoleRow> {
    return q
      .insertInto('team_roles')
      .values({ ...row, name_key: nameKey(row.name) })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  update(q: Queryable, id: string, changes: { name?: string; rights?: string[] }) {
    return q
      .updateTable('team_roles')
      .set({
        ...changes,
        ...(changes.name !== undefined ? { name_key: nameKey(changes.name) } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async remove(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('team_roles').where('id', '=', id).execute();
  },

  /** Whether the user holds the role. */
  async isHeldBy(q: Queryable, id: string, userId: string): Promise<boolean> {
    const row = await q
      .selectFrom('team_members')
      .select('user_id')
      .where('team_role_id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** The usernames of the members who hold the role. */
  async holders(q: Queryable, id: string): Promise<string[]> {
    const rows = await q
      .selectFrom('team_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('u.username')
      .where('m.team_role_id', '=', id)
      .orderBy('u.username')
      .execute();
    return rows.map((r) => r.username);
  },
};
