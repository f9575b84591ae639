import { sql, type Kysely } from 'kysely';

/**
 * Slack: the message a `slack` team destination posted for each alert (so later events edit it in place,
 * and a button pressed on it finds its alert), and which Slack user is which Vigil user.
 *
 * `slack_messages` has no foreign key to alerts: the `deleted` event still edits the message after the
 * alert row is gone. Its rows go with their destination.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE slack_messages (
      destination_id uuid NOT NULL REFERENCES team_destinations(id) ON DELETE CASCADE,
      alert_id uuid NOT NULL,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      channel text NOT NULL,
      ts text NOT NULL,
      title text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (destination_id, alert_id)
    );
    CREATE UNIQUE INDEX slack_messages_channel_ts ON slack_messages (channel, ts);

    CREATE TABLE slack_user_links (
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      slack_team_id text NOT NULL,
      slack_user_id text NOT NULL,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (org_id, slack_team_id, slack_user_id)
    );
    CREATE INDEX slack_user_links_user ON slack_user_links (user_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE slack_user_links;
    DROP TABLE slack_messages;
  `.execute(db);
}
