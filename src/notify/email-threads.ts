import { sql } from 'kysely';
import type { Queryable } from '../db/database.js';

/**
 * The SQL of `email_threads`: per alert, the message its emails' subject keeps (migration 0053). The
 * first email about an alert sets it to the alert's message then; every later one reads it back,
 * whatever the message is now.
 */
export const emailThreadsRepository = {
  /**
   * The thread message of each of these alerts, for a round of emails about them: one statement for the
   * round, which keeps the alert's message as it is now for those that have none yet. An alert whose
   * first emails go in two rounds at once may be missing from the answer (the other round's row is not
   * yet visible to this statement); its email then has the message as it is, the same one.
   */
  async threadsOf(db: Queryable, alertIds: readonly string[]): Promise<Map<string, string>> {
    if (alertIds.length === 0) return new Map();
    const { rows } = await sql<{ alert_id: string; message: string }>`
      WITH kept AS (
        INSERT INTO email_threads (alert_id, message)
        SELECT a.id, a.message FROM alerts a WHERE a.id = ANY(${[...alertIds]}::uuid[])
        ON CONFLICT (alert_id) DO NOTHING
        RETURNING alert_id, message
      )
      SELECT alert_id, message FROM kept
      UNION ALL
      SELECT alert_id, message FROM email_threads WHERE alert_id = ANY(${[...alertIds]}::uuid[])`.execute(db);
    return new Map(rows.map((r) => [r.alert_id, r.message]));
  },
};
