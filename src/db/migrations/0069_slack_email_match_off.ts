import { sql, type Kysely } from 'kysely';

/**
 * The Slack users an organization admin unlinked (DELETE /v2/users/{id}/slack), whom the email match no
 * longer links to anyone in the organization. Without it, an unlink lasted until the Slack account's next
 * click, which linked it again by its email: an admin could not take a Slack account's power to act as a
 * Vigil user away (a shared or stolen one) short of blocking the user. An admin's link (PUT) of the Slack
 * user removes its row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE slack_email_match_off (
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      slack_user_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (org_id, slack_user_id)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE slack_email_match_off`.execute(db);
}
