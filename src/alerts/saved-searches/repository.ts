import { sql, type Insertable, type Updateable } from 'kysely';
import { isUuid, type Queryable } from '../../db/database.js';
import type { SavedSearchRow, SavedSearchesTable } from '../../db/schema.js';
import { nameKey } from '../../db/name-key.js';

/** The SQL of saved searches, and nothing else. */

export type SavedSearchIdentifierType = 'id' | 'name';

export type SavedSearchWithRefs = SavedSearchRow & {
  owner_username: string | null;
  teams: { id: string; name: string }[];
};

export const savedSearchesRepository = {
  list(q: Queryable, orgId: string): Promise<Pick<SavedSearchRow, 'id' | 'name'>[]> {
    return q
      .selectFrom('saved_searches')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .orderBy('name_key')
      .orderBy('id')
      .execute();
  },

  /** By id (a uuid, else nothing) or by name (without regard to case: {@link nameKey}). */
  find(
    q: Queryable,
    orgId: string,
    identifier: string,
    type: SavedSearchIdentifierType,
  ): Promise<SavedSearchRow | undefined> {
    if (type === 'id' && !isUuid(identifier)) return Promise.resolve(undefined);
    return q
      .selectFrom('saved_searches')
      .selectAll()
      .where('org_id', '=', orgId)
      .where((eb) => (type === 'id' ? eb('id', '=', identifier) : eb('name_key', '=', nameKey(identifier))))
      .executeTakeFirst();
  },

  /** The owner's username and the teams (those that still exist), for presenting one search. */
  async withRefs(q: Queryable, row: SavedSearchRow): Promise<SavedSearchWithRefs> {
    const owner = row.owner_user_id
      ? await q.selectFrom('users').select('username').where('id', '=', row.owner_user_id).executeTakeFirst()
      : undefined;
    const teams =
      row.team_ids.length > 0
        ? await q
            .selectFrom('teams')
            .select(['id', 'name'])
            .where('org_id', '=', row.org_id)
            .where('id', 'in', row.team_ids)
            .orderBy('name')
            .execute()
        : [];
    return { ...row, owner_username: owner?.username ?? null, teams };
  },

  /**
   * Holds the organization's saved searches still until the transaction ends: two creates counting
   * them at once would otherwise both see room for the last one.
   */
  async lockOrganization(q: Queryable, orgId: string): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'vigil:saved-searches:' + orgId}, 0))`.execute(
      q,
    );
  },

  /** How many saved searches the organization has, and how many of them `ownerUserId` owns. */
  async counts(
    q: Queryable,
    orgId: string,
    ownerUserId: string,
  ): Promise<{ organization: number; owner: number }> {
    const row = await q
      .selectFrom('saved_searches')
      .select((eb) => [
        eb.fn.countAll<string>().as('organization'),
        eb.fn.countAll<string>().filterWhere('owner_user_id', '=', ownerUserId).as('owner'),
      ])
      .where('org_id', '=', orgId)
      .executeTakeFirstOrThrow();
    return { organization: Number(row.organization), owner: Number(row.owner) };
  },

  /** A new search; its `name_key` is the name's. */
  insert(q: Queryable, row: Omit<Insertable<SavedSearchesTable>, 'name_key'>): Promise<SavedSearchRow> {
    return q
      .insertInto('saved_searches')
      .values({ ...row, name_key: nameKey(row.name) })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** The search changed (a new name keyed too), or undefined when it is gone (deleted meanwhile). */
  update(
    q: Queryable,
    id: string,
    changes: Omit<Updateable<SavedSearchesTable>, 'name_key'>,
  ): Promise<SavedSearchRow | undefined> {
    return q
      .updateTable('saved_searches')
      .set({
        ...changes,
        ...(changes.name !== undefined ? { name_key: nameKey(changes.name) } : {}),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },

  async delete(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('saved_searches').where('id', '=', id).execute();
  },
};
