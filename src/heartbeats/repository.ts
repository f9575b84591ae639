import { sql, type Insertable, type Updateable } from 'kysely';
import type { Queryable, Tx } from '../db/database.js';
import type { HeartbeatRow, HeartbeatsTable } from '../db/schema.js';

/** The SQL of heartbeats, and nothing else. */

export type HeartbeatWithTeam = HeartbeatRow & { owner_team_name: string | null };

function withTeam(q: Queryable) {
  return q
    .selectFrom('heartbeats as h')
    .leftJoin('teams as t', 't.id', 'h.owner_team_id')
    .selectAll('h')
    .select('t.name as owner_team_name');
}

export const heartbeatsRepository = {
  list(q: Queryable, orgId: string): Promise<HeartbeatWithTeam[]> {
    return withTeam(q).where('h.org_id', '=', orgId).orderBy('h.name').execute();
  },

  find(q: Queryable, orgId: string, name: string): Promise<HeartbeatWithTeam | undefined> {
    return withTeam(q).where('h.org_id', '=', orgId).where('h.name', '=', name).executeTakeFirst();
  },

  /** The heartbeat, locked for the rest of the caller's transaction. */
  lock(tx: Tx, orgId: string, name: string): Promise<HeartbeatRow | undefined> {
    return tx
      .selectFrom('heartbeats')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('name', '=', name)
      .forUpdate()
      .executeTakeFirst();
  },

  insert(q: Queryable, row: Insertable<HeartbeatsTable>): Promise<HeartbeatRow> {
    return q.insertInto('heartbeats').values(row).returningAll().executeTakeFirstOrThrow();
  },

  update(q: Queryable, id: string, changes: Updateable<HeartbeatsTable>): Promise<HeartbeatRow> {
    return q
      .updateTable('heartbeats')
      .set({ ...changes, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async delete(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('heartbeats').where('id', '=', id).execute();
  },

  /**
   * Heartbeats whose time ran out at `now`, locked for the caller's transaction; those another worker
   * holds are skipped (it is expiring them), so each expiry is handled once.
   */
  claimDue(tx: Tx, now: Date, limit: number): Promise<HeartbeatRow[]> {
    return tx
      .selectFrom('heartbeats')
      .selectAll()
      .where('expires_at', '<=', now)
      .where('enabled', '=', true)
      .orderBy('expires_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  },

  async nextExpiry(q: Queryable): Promise<Date | null> {
    const row = await q
      .selectFrom('heartbeats')
      .select((eb) => eb.fn.min('expires_at').as('next'))
      .where('expires_at', 'is not', null)
      .executeTakeFirst();
    return (row?.next as Date | null | undefined) ?? null;
  },
};
