import { sql, type Kysely } from 'kysely';

/**
 * Who was handed the link a password was set through (`user_passwords.given_to`): the link's `given_to`
 * (migration 0061), kept once the link is used, as the link itself is purged a day later. Whoever held
 * the link may have chosen the password, and so signs in as the person and acts in their sessions: an
 * API key made in such a session is held by them too, a promotion to owner drops the password, and so
 * does letting one of them go (accounts/service.ts). A NULL element stands for someone not known; a NULL
 * column, for a password set otherwise (an emailed link, the first set-up, or through a handed link used
more than a day before this migration, which is gone).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE user_passwords ADD COLUMN given_to uuid[]`.execute(db);
  // A password set through a handed link before this migration is known as long as the link is kept (a
  // day after its use): the person's last used link, when it was handed, says who may know it.
  await sql`
    UPDATE user_passwords p SET given_to = last.given_to
    FROM (
      SELECT DISTINCT ON (user_id) user_id, given_to FROM account_tokens
      WHERE used_at IS NOT NULL ORDER BY user_id, used_at DESC
    ) last
    WHERE last.user_id = p.user_id AND last.given_to IS NOT NULL
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE user_passwords DROP COLUMN given_to`.execute(db);
}
