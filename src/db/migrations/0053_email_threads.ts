import { sql, type Kysely } from 'kysely';

/**
 * The message each alert's email thread keeps in its subject (`email_threads`): the alert's message as
 * the first email about it had it, so an edit of the message later does not split the thread in the
 * mail clients that thread by subject (src/notify/email-threads.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE email_threads (
      alert_id uuid PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
      message text NOT NULL
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE email_threads`.execute(db);
}
