import { sql, type Kysely } from 'kysely';

/**
 * Opsgenie's notification policies (`/v2/policies`, type `notification`): a team's policies that change how
 * its members are notified of the alerts they match (suppressed, delayed, the alert closed after a while).
 *
 * They are rows of `alert_policies` with a `type`, not a table of their own: Opsgenie gives both kinds one
 * id space (`GET /v2/policies/{id}` answers either), and a maintenance's rules name a policy by id whatever
 * its kind (maintenance_policy_rules references this table). Each kind has its own order within its scope,
 * and its own names (as in Opsgenie, a team may have an alert and a notification policy of one name). A notification policy always belongs to a team. What it
 * does is `notification_actions`; `modifications` (what an alert policy changes) is empty for it.
 *
 * `alert_auto_closes` holds the closes an autoCloseAction scheduled, one per alert (the earliest wins): the
 * `auto-closes` work queue closes each alert still open when its time comes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE alert_policies
      ADD COLUMN type text NOT NULL DEFAULT 'alert' CHECK (type IN ('alert', 'notification')),
      ADD COLUMN notification_actions jsonb,
      ADD CONSTRAINT alert_policies_notification_team CHECK (type = 'alert' OR team_id IS NOT NULL);
    DROP INDEX alert_policies_order;
    CREATE INDEX alert_policies_order ON alert_policies (org_id, team_id, type, position);
    DROP INDEX alert_policies_name;
    CREATE UNIQUE INDEX alert_policies_name ON alert_policies
      (org_id, coalesce(team_id, '00000000-0000-0000-0000-000000000000'::uuid), type, name);

    CREATE TABLE alert_auto_closes (
      alert_id uuid PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      close_at timestamptz NOT NULL,
      policy_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX alert_auto_closes_due ON alert_auto_closes (close_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE alert_auto_closes;
    DELETE FROM alert_policies WHERE type = 'notification';
    DROP INDEX alert_policies_order;
    CREATE INDEX alert_policies_order ON alert_policies (org_id, team_id, position);
    DROP INDEX alert_policies_name;
    CREATE UNIQUE INDEX alert_policies_name
      ON alert_policies (org_id, coalesce(team_id, '00000000-0000-0000-0000-000000000000'::uuid), name);
    ALTER TABLE alert_policies DROP CONSTRAINT alert_policies_notification_team,
      DROP COLUMN notification_actions, DROP COLUMN type;
  `.execute(db);
}
