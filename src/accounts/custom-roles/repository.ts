import { sql } from 'kysely';
import { nameKey } from '../../db/name-key.js';
import { isUuid, type Queryable } from '../../db/database.js';
import type { CustomUserRoleRow, ExtendedUserRole } from '../../db/schema.js';

/** The SQL for an organization's custom user roles. No rules here: see service.ts. */

export interface CustomRoleColumns {
  name: string;
  extended_role: ExtendedUserRole;
  granted_rights: string[];
  disallowed_rights: string[];
}

export const customRolesRepository = {
  list(q: Queryable, orgId: string): Promise<CustomUserRoleRow[]> {
    return q
      .selectFrom('custom_user_roles')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('name_key')
      .execute();
  },

  /**
   * By id (a uuid, else nothing) or by name without regard to case: by `name_key`, the name as names are
   * compared (Unicode's composed form, its case folded; unique in the organization, migration 0082).
   */
  async find(
    q: Queryable,
    orgId: string,
    identifier: string,
    by: 'id' | 'name',
  ): Promise<CustomUserRoleRow | undefined> {
    if (by === 'id' && !isUuid(identifier)) return undefined;
    return q
      .selectFrom('custom_user_roles')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) => (by === 'id' ? eb('id', '=', identifier) : eb('name_key', '=', nameKey(identifier))))
      .executeTakeFirst();
  },

  /** The roles of these ids, by id: what GET /v2/users shows of its users' roles. */
  async byIds(q: Queryable, orgId: string, ids: readonly string[]): Promise<Map<string, CustomUserRoleRow>> {
    if (ids.length === 0) return new Map();
    const rows = await q
      .selectFrom('custom_user_roles')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [r.id, r]));
  },

  /** A new role; its `name_key` is the name's. */
  insert(q: Queryable, row: { org_id: string } & CustomRoleColumns): Promise<CustomUserRoleRow> {
    return q
      .insertInto('custom_user_roles')
      .values({ ...row, name_key: nameKey(row.name) })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  update(q: Queryable, id: string, changes: CustomRoleColumns): Promise<CustomUserRoleRow> {
    return q
      .updateTable('custom_user_roles')
      .set({ ...changes, name_key: nameKey(changes.name), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async remove(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('custom_user_roles').where('id', '=', id).execute();
  },

  /** The usernames of (up to `limit` of) the users who hold the role, and how many do. */
  async holders(q: Queryable, id: string, limit: number): Promise<{ usernames: string[]; count: number }> {
    const rows = await q
      .selectFrom('users')
      .select(['username', sql<number>`count(*) OVER ()::int`.as('count')])
      .where('custom_role_id', '=', id)
      .orderBy('username')
      .limit(limit)
      .execute();
    return { usernames: rows.map((r) => r.username), count: rows[0]?.count ?? 0 };
  },
};
