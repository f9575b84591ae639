import { sql, type Kysely } from 'kysely';

/**
 * A Slack link says whether an organization admin made it (`slack_user_links.by_admin`) or the email
 * match did. A link made by email vouches only for a person of the app's own workspace: before Vigil
 * checked the presser's workspace, someone of another organization in a Slack Connect channel, whose
 * admins set their email to a Vigil user's, was linked to that user, and the link kept letting them act
 * as that user. Existing links cannot tell how they were made, so they become email links (checked at
 * each click): an admin's deliberate link of a partner is made again through the API if refused.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE slack_user_links ADD COLUMN by_admin boolean NOT NULL DEFAULT false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE slack_user_links DROP COLUMN by_admin`.execute(db);
}
