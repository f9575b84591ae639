import { sql } from 'kysely';
import type { Queryable } from '../db/database.js';

/** The table of processes that want the live feed's announcements: while it has a row, they are sent. */
export const alertFeedWishesRepository = {
  /** Writes or renews the process's wish; whether its row was missing (new, or forgotten meanwhile). */
  async renew(db: Queryable, processId: string, now: Date): Promise<{ inserted: boolean }> {
    const row = await db
      .insertInto('alert_feed_wishes')
      .values({ process_id: processId, renewed_at: now })
      .onConflict((oc) => oc.column('process_id').doUpdateSet({ renewed_at: now }))
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      .returning(sql<boolean>`xmax = 0`.as('inserted'))
      .executeTakeFirstOrThrow();
    return { inserted: row.inserted };
  },

  async withdraw(db: Queryable, processId: string): Promise<void> {
    await db.deleteFrom('alert_feed_wishes').where('process_id', '=', processId).execute();
  },

  /** Forgets wishes not renewed since `before`: their processes are gone. */
  async forgetOlder(db: Queryable, before: Date): Promise<void> {
    await db.deleteFrom('alert_feed_wishes').where('renewed_at', '<', before).execute();
  },
};
