import { sql, type Kysely } from 'kysely';

/**
 * Who was handed the link a password was set through (`user_passwords.given_to`): the link's `given_to`
 * (migration 0061), kept once the link is used, as the link itself is purged a day later. Whoever held
 * the link may have chosen the password, and so signs in as the person and acts in their sessions: an
 * API key made in such a session is held by them too, a promotion to owner drops the password, and so
 * does letting one of them go (accounts/service.ts). A NULL element stands for someone not known; a NULL
 * column, for a password set otherwise (an emailed link, the first set-up, or from before this).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE user_passwords ADD COLUMN given_to uuid[]`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE user_passwords DROP COLUMN given_to`.execute(db);
}
