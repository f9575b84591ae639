import { sql, type Kysely } from 'kysely';

/**
 * Who was handed each invitation link (`account_tokens.given_to`): when the email could not be sent, the
 * link comes back to the inviting admin, and from a request made with an API key to everyone who holds
 * that key (as `api_keys.holders`, migration 0052). Anyone with the link can set the invitee's password
 * without signing in, so the links handed to a person are spent when that person is blocked, deleted or
 * demoted (accounts/service.ts). An array, not a reference, because a key can have several holders: a
 * deleted person's links are spent by the delete itself rather than by the foreign key. A NULL element
 * stands for someone not known; a NULL column, for a link that was only emailed (or from before this).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE account_tokens ADD COLUMN given_to uuid[]`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE account_tokens DROP COLUMN given_to`.execute(db);
}
