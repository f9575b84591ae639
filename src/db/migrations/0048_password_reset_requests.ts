import { sql, type Kysely } from 'kysely';

/**
 * Asked-for password resets, to be sent by a worker (`password_reset_requests`): the request only
 * stores the email it was given, the same one statement whether or not an account has it, so its time
 * tells nothing of who has an account (it used to look the email up, make a link and hand the email to
 * SMTP before answering). One row per email, lower-cased: asking again while one waits adds nothing.
 * A worker leases a row while it sends (`leased_until`), and deletes it once done.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE password_reset_requests (
      email text PRIMARY KEY,
      requested_at timestamptz NOT NULL,
      leased_until timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE password_reset_requests`.execute(db);
}
