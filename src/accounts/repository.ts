import { sql } from 'kysely';
import { type Queryable, isUuid } from '../db/database.js';
import type { OrgPlan, UserRole } from '../db/schema.js';
import type { MemberRole } from './team-roles/member-role.js';
import { userSearch, userSearchKey } from './user-search.js';

/** The SQL for organizations, users, teams, memberships and API keys. No rules here: see service.ts. */

export interface PrincipalRow {
  api_key_id: string;
  org_id: string;
  key_hash: Buffer;
  user_id: string | null;
  username: string | null;
  full_name: string | null;
  role: UserRole | null;
  custom_role_id: string | null;
  blocked: boolean | null;
}

export const accountsRepository = {
  async keysByLookup(db: Queryable, lookup: string): Promise<PrincipalRow[]> {
    return db
      .selectFrom('api_keys as k')
      .leftJoin('users as u', 'u.id', 'k.user_id')
      .select([
        'k.id as api_key_id',
        'k.org_id',
        'k.key_hash',
        'k.user_id',
        'u.username',
        'u.full_name',
        'u.role',
        'u.custom_role_id',
        'u.blocked',
      ])
      .where('k.lookup', '=', lookup)
      .execute();
  },

  async touchKey(db: Queryable, id: string, now: Date): Promise<void> {
    // At most once a minute per key, so busy senders do not turn every request into a write.
    await db
      .updateTable('api_keys')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]),
      )
      .execute();
  },

  async insertKey(
    db: Queryable,
    row: {
      org_id: string;
      user_id: string | null;
      name: string;
      lookup: string;
      key_hash: Buffer;
      /** Who saw its value (null elements: someone not known); left out, nobody known. */
      holders?: (string | null)[] | null;
    },
  ) {
    return db
      .insertInto('api_keys')
      .values(row)
      .returning(['id', 'name', 'user_id', 'created_at'])
      .executeTakeFirstOrThrow();
  },

  async listKeys(db: Queryable, orgId: string, userId?: string) {
    let query = db
      .selectFrom('api_keys')
      .select(['id', 'name', 'user_id', 'created_at', 'last_used_at'])
      .where('org_id', '=', orgId)
      .orderBy('created_at');
    if (userId) query = query.where('user_id', '=', userId);
    return query.execute();
  },

  /**
   * `lock` 'key share' holds the key's row until the caller's transaction ends: a delete (a holder blocked,
   * or the key revoked) waits for it, and one committed meanwhile leaves nothing to find.
   */
  async findKey(db: Queryable, orgId: string, id: string, lock?: 'key share') {
    const query = db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).where('id', '=', id);
    return (lock === 'key share' ? query.forKeyShare() : query).executeTakeFirst();
  },

  async deleteKey(db: Queryable, orgId: string, id: string): Promise<boolean> {
    const result = await db
      .deleteFrom('api_keys')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  },

  /**
   * Deletes the user's keys that someone else (or someone not known) may hold, but for those only `owners`
   * besides the user hold (an owner may hold an owner's key); the names of those that went.
   */
  async deleteKeysHeldByOthersOf(db: Queryable, userId: string, owners: string[] = []): Promise<string[]> {
    const mayHold = [userId, ...owners];
    const deleted = await db
      .deleteFrom('api_keys')
      .where('user_id', '=', userId)
      // Only a key that no one else saw stays: its holders all among `mayHold` (a NULL element, someone not
      // known, is in no array).
      .where(sql<boolean>`NOT coalesce(holders <@ ${mayHold}::uuid[], false)`)
      .returning('name')
      .execute();
    return deleted.map((k) => k.name);
  },

  /**
   * Deletes the keys of others (or of nobody) this person saw the value of, when made or through the key
   * they were made with: the person may still hold them. `ofOwners`: only the keys of owners. The names of
   * those that went.
   */
  async deleteKeysForOthersHeldBy(
    db: Queryable,
    userId: string,
    options: { ofOwners?: boolean } = {},
  ): Promise<string[]> {
    let query = db
      .deleteFrom('api_keys')
      .where(sql<boolean>`${userId}::uuid = ANY (holders)`)
      .where('user_id', 'is distinct from', userId);
    if (options.ofOwners)
      query = query.where('user_id', 'in', db.selectFrom('users').select('id').where('role', '=', 'owner'));
    const deleted = await query.returning('name').execute();
    return deleted.map((k) => k.name);
  },

  async countOrganizations(db: Queryable): Promise<number> {
    const row = await db
      .selectFrom('organizations')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async countUsers(db: Queryable, orgId: string): Promise<number> {
    const row = await db
      .selectFrom('users')
      .where('org_id', '=', orgId)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async insertOrganization(db: Queryable, name: string, plan?: OrgPlan) {
    return db.insertInto('organizations').values({ name, plan }).returningAll().executeTakeFirstOrThrow();
  },

  async getOrganization(db: Queryable, id: string) {
    return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async updateOrganization(db: Queryable, id: string, changes: { name?: string; plan?: OrgPlan }) {
    return db
      .updateTable('organizations')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },

  async insertUser(
    db: Queryable,
    row: {
      org_id: string;
      username: string;
      full_name: string;
      role: UserRole;
      custom_role_id?: string | null;
      time_zone?: string;
      locale?: string;
      tags?: string[];
      skype_username?: string;
      user_address?: string;
    },
  ) {
    return db
      .insertInto('users')
      .values({ ...row, search_key: userSearchKey(row.username, row.full_name) })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /**
   * `lock`: KEY SHARE on the row, for a reference about to be saved to it (deleting the user then waits for
   * the caller's transaction, and one deleted meanwhile is not found); UPDATE, to delete the user once
   * no such reference is left.
   */
  async findUser(db: Queryable, orgId: string, identifier: string, lock?: 'key share' | 'share' | 'update') {
    const byId = isUuid(identifier);
    const query = db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) =>
        byId ? eb('id', '=', identifier) : eb(sql`lower(username)`, '=', identifier.toLowerCase()),
      );
    return (
      lock === 'key share'
        ? query.forKeyShare()
        : lock === 'share'
          ? query.forShare()
          : lock === 'update'
            ? query.forUpdate()
            : query
    ).executeTakeFirst();
  },

  async listUsers(
    db: Queryable,
    orgId: string,
    page: {
      offset: number;
      limit: number;
      sort: 'username' | 'fullName' | 'insertedAt';
      order: 'asc' | 'desc';
      query?: string;
    },
  ) {
    const column =
      page.sort === 'fullName' ? 'full_name' : page.sort === 'insertedAt' ? 'created_at' : 'username';
    let base = db.selectFrom('users').where('org_id', '=', orgId);
    // In Unicode's terms, by the users' search_key, not by ILIKE (ASCII only under the C locale).
    if (page.query) base = base.where(userSearch(page.query));
    const [rows, total] = await Promise.all([
      base
        .selectAll()
        .orderBy(column, page.order)
        .orderBy('id')
        .offset(page.offset)
        .limit(page.limit)
        .execute(),
      base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(total.n) };
  },

  async updateUser(
    db: Queryable,
    id: string,
    changes: {
      username?: string;
      full_name?: string;
      role?: UserRole;
      custom_role_id?: string | null;
      time_zone?: string;
      locale?: string;
      blocked?: boolean;
      tags?: string[];
      skype_username?: string;
      user_address?: string;
    },
  ) {
    const row = await db
      .updateTable('users')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) return row;
    // A change of either name had 0083's trigger clear the search key (a user an older process wrote or
    // renamed has none either): keyed here by the names the row has, unless another change committed
    // since (which keys the user itself).
    const key = userSearchKey(row.username, row.full_name);
    if (row.search_key === key) return row;
    await db
      .updateTable('users')
      .set({ search_key: key })
      .where('id', '=', id)
      .where('username', '=', row.username)
      .where('full_name', '=', row.full_name)
      .execute();
    return { ...row, search_key: key };
  },

  async deleteUser(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('users').where('id', '=', id).execute();
  },

  /**
   * The organization's owners, their rows locked until the transaction ends: whoever demotes, blocks or
   * deletes an owner waits for any other doing so, then sees what it left (service.ts keeps one owner).
   */
  async lockOwners(db: Queryable, orgId: string) {
    return db
      .selectFrom('users')
      .select(['id', 'blocked'])
      .where('org_id', '=', orgId)
      .where('role', '=', 'owner')
      .orderBy('id')
      .forUpdate()
      .execute();
  },

  /**
   * These users, their rows locked until the transaction ends (`share`: their role and blocked state read
   * for a decision that a block, demotion or delete must wait for, or be seen by; `key share`: for
   * references about to be saved to them, which only a delete waits for). The owners among them first,
   * then the others, each in id order: a block, demotion or delete locks every owner (lockOwners, in id
   * order) and then its person, who may be no owner; locked in any other order, each could hold a row the
   * other waits for. A user deleted meanwhile is left out.
   */
  async lockUsersOwnersFirst(q: Queryable, userIds: string[], lock: 'share' | 'key share') {
    if (userIds.length === 0) return [];
    const locked = (ownersOnly: boolean) => {
      let query = q
        .selectFrom('users')
        .select(['id', 'username', 'role', 'blocked'])
        .where('id', 'in', userIds);
      if (ownersOnly) query = query.where('role', '=', 'owner');
      query = query.orderBy('id');
      return (lock === 'share' ? query.forShare() : query.forKeyShare()).execute();
    };
    await locked(true);
    // Those locked above are this transaction's already: only the others are waited for here.
    return locked(false);
  },

  /** The user's teams, each with the user's role there: 'admin', 'user' or a custom role's name. */
  async teamsOfUser(db: Queryable, userId: string) {
    return db
      .selectFrom('team_members as m')
      .innerJoin('teams as t', 't.id', 'm.team_id')
      .leftJoin('team_roles as r', 'r.id', 'm.team_role_id')
      .select(['t.id', 't.name', sql<string>`coalesce(r.name, m.role)`.as('role')])
      .where('m.user_id', '=', userId)
      .orderBy('t.name')
      .execute();
  },

  async insertTeam(db: Queryable, row: { org_id: string; name: string; description?: string }) {
    return db.insertInto('teams').values(row).returningAll().executeTakeFirstOrThrow();
  },

  /**
   * `lock`: KEY SHARE on the row, for a reference about to be saved to it (deleting the team then waits
   * for the caller's transaction, and one deleted meanwhile is not found); UPDATE, to delete the team
   * once no such reference is left.
   */
  async findTeam(
    db: Queryable,
    orgId: string,
    identifier: string,
    by: 'id' | 'name',
    lock?: 'key share' | 'update',
  ) {
    if (by === 'id' && !isUuid(identifier)) {
      return undefined;
    }
    const query = db
      .selectFrom('teams')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) =>
        by === 'id' ? eb('id', '=', identifier) : eb(sql`lower(name)`, '=', identifier.toLowerCase()),
      );
    return (
      lock === 'key share' ? query.forKeyShare() : lock === 'update' ? query.forUpdate() : query
    ).executeTakeFirst();
  },

  async listTeams(db: Queryable, orgId: string) {
    return db.selectFrom('teams').selectAll().where('org_id', '=', orgId).orderBy('name').execute();
  },

  async updateTeam(db: Queryable, id: string, changes: { name?: string; description?: string }) {
    return db
      .updateTable('teams')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },

  /**
   * The heartbeats the team owns: the first `limit` names, alphabetically, and how many there are. Read
   * under the team's UPDATE lock (findTeam), none can be given to the team meanwhile: saving one's owner
   * team takes KEY SHARE on the team's row.
   */
  async heartbeatsOwnedBy(
    db: Queryable,
    teamId: string,
    limit: number,
  ): Promise<{ names: string[]; count: number }> {
    const rows = await db
      .selectFrom('heartbeats')
      .select(['name', sql<string>`count(*) OVER ()`.as('total')])
      .where('owner_team_id', '=', teamId)
      .orderBy('name')
      .limit(limit)
      .execute();
    return { names: rows.map((r) => r.name), count: Number(rows[0]?.total ?? 0) };
  },

  async deleteTeam(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('teams').where('id', '=', id).execute();
  },

  /**
   * Locks the team's row until the transaction ends, so that changes to its members (or to its routing
   * rules) take turns: each then reads what the one before it left, and a member list replaced never
   * meets a member added meanwhile. NO KEY UPDATE, so that foreign-key checks on the team (new members,
   * new rules) do not wait for it.
   */
  async lockTeam(db: Queryable, teamId: string): Promise<void> {
    await db.selectFrom('teams').select('id').where('id', '=', teamId).forNoKeyUpdate().execute();
  },

  /** The team's members in the order given, each with their role: 'admin', 'user' or a custom role's name. */
  async teamMembers(db: Queryable, teamId: string) {
    return db
      .selectFrom('team_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .leftJoin('team_roles as r', 'r.id', 'm.team_role_id')
      .select(['u.id', 'u.username', 'u.full_name', sql<string>`coalesce(r.name, m.role)`.as('role')])
      .where('m.team_id', '=', teamId)
      .orderBy('m.position')
      .orderBy('u.username')
      .execute();
  },

  /** A new member goes last in the team's list; a member given another role keeps their place. */
  async upsertMember(db: Queryable, teamId: string, userId: string, given: MemberRole): Promise<void> {
    const role = { role: given.role, team_role_id: given.teamRoleId };
    const last = sql<number>`(SELECT coalesce(max(position) + 1, 0) FROM team_members WHERE team_id = ${teamId})`;
    await db
      .insertInto('team_members')
      .values({ team_id: teamId, user_id: userId, position: last, ...role })
      .onConflict((oc) => oc.columns(['team_id', 'user_id']).doUpdateSet(role))
      .execute();
  },

  async removeMember(db: Queryable, teamId: string, userId: string): Promise<boolean> {
    const result = await db
      .deleteFrom('team_members')
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  },

  /** The team's members become `members`, in that order. */
  async replaceMembers(
    db: Queryable,
    teamId: string,
    members: { userId: string; role: MemberRole }[],
  ): Promise<void> {
    await db.deleteFrom('team_members').where('team_id', '=', teamId).execute();
    if (members.length > 0) {
      await db
        .insertInto('team_members')
        .values(
          members.map((m, position) => ({
            team_id: teamId,
            user_id: m.userId,
            position,
            role: m.role.role,
            team_role_id: m.role.teamRoleId,
          })),
        )
        .execute();
    }
  },

  /** The user's role in the team as the API shows it ('admin', 'user' or a custom role's name). */
  async memberRole(db: Queryable, teamId: string, userId: string): Promise<string | undefined> {
    const row = await db
      .selectFrom('team_members as m')
      .leftJoin('team_roles as r', 'r.id', 'm.team_role_id')
      .select(sql<string>`coalesce(r.name, m.role)`.as('role'))
      .where('m.team_id', '=', teamId)
      .where('m.user_id', '=', userId)
      .executeTakeFirst();
    return row?.role;
  },
};
