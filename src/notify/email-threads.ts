import type { Queryable } from '../db/database.js';

/**
 * The SQL of `email_threads`: per alert, the message its emails' subject keeps (migration 0053). The
 * first email about an alert sets it; every later one reads it back, whatever the message is now.
 */
export const emailThreadsRepository = {
  /**
   * The thread's message: the one stored by the alert's first email, or `message` when this is the
   * first. Every email but the first only reads. Two first emails at once both insert; the one that
   * loses the race inserts nothing and reads the winner's (a statement of its own, which sees the
   * other's commit where the insert's own snapshot would not).
   */
  async threadMessage(db: Queryable, alertId: string, message: string): Promise<string> {
    const read = async () =>
      (
        await db
          .selectFrom('email_threads')
          .select('message')
          .where('alert_id', '=', alertId)
          .executeTakeFirst()
      )?.message;
    const kept = await read();
    if (kept !== undefined) return kept;
    const inserted = await db
      .insertInto('email_threads')
      .values({ alert_id: alertId, message })
      .onConflict((oc) => oc.column('alert_id').doNothing())
      .returning('message')
      .executeTakeFirst();
    return inserted?.message ?? (await read()) ?? message;
  },
};
