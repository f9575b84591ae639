import type { Queryable } from '../db/database.js';

/**
 * The SQL of `email_threads`: per alert, the message its emails' subject keeps (migration 0053). The
 * first email about an alert sets it; every later one reads it back, whatever the message is now.
 */
export const emailThreadsRepository = {
  /**
   * The thread's message: the one stored by the alert's first email, or `message` when this is the
   * first. One statement either way; the no-op update makes a concurrent first email wait for the other
   * and return its message, where DO NOTHING would return no row.
   */
  async threadMessage(db: Queryable, alertId: string, message: string): Promise<string> {
    const row = await db
      .insertInto('email_threads')
      .values({ alert_id: alertId, message })
      .onConflict((oc) =>
        oc.column('alert_id').doUpdateSet((eb) => ({ message: eb.ref('email_threads.message') })),
      )
      .returning('message')
      .executeTakeFirstOrThrow();
    return row.message;
  },
};
