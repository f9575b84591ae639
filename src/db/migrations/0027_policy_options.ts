import { sql, type Kysely } from 'kysely';

/**
 * The rest of Opsgenie's policy options (alerts/policies/):
 *
 * - `time_restriction` and `timezone` on `alert_policies`: a policy of either kind applies only to alerts
 *   created inside the restriction, read in the policy's time zone (also the zone of a delay until a time).
 * - `alert_notification_holds`: a team's escalation of an alert held back by a deduplicationAction until the
 *   alert has occurred `count` times (within `window_ms`, frequency-based); `occurrences` keeps the latest
 *   times it occurred, at most `count` of them. `policy_id` has no foreign key: a hold whose policy is gone
 *   counts as met (the engine starts its escalation), it is not dropped with it.
 * - `alerts.notification_held`: the alert has (or had) a hold. Set by the engine under the alert's row lock,
 *   so that a de-duplicating create, which updates that row, sees it and only then tells the engine
 *   (a `hold_occurrence` event): alerts without holds cost the engine nothing when de-duplicated.
 * - `alert_auto_restarts`: an autoRestartAction's next restart of a team's escalation of an alert, and how
 *   many restarts are left; the `auto-restarts` work queue makes them (none once the policy is gone).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE alert_policies
      ADD COLUMN time_restriction jsonb,
      ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';

    CREATE TABLE alert_notification_holds (
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      team_id uuid NOT NULL,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      policy_id uuid NOT NULL,
      policy_name text NOT NULL,
      count integer NOT NULL,
      window_ms bigint,
      occurrences timestamptz[] NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (alert_id, team_id)
    );

    CREATE TABLE alert_auto_restarts (
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      team_id uuid NOT NULL,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      restart_at timestamptz NOT NULL,
      every_ms bigint NOT NULL,
      remaining integer NOT NULL,
      policy_id uuid NOT NULL,
      policy_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (alert_id, team_id)
    );
    CREATE INDEX alert_notification_holds_policy ON alert_notification_holds (policy_id);
    CREATE INDEX alert_auto_restarts_due ON alert_auto_restarts (restart_at);
    CREATE INDEX alert_auto_restarts_policy ON alert_auto_restarts (policy_id);

    ALTER TABLE alerts ADD COLUMN notification_held boolean NOT NULL DEFAULT false;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE alerts DROP COLUMN notification_held;
    DROP TABLE alert_auto_restarts;
    DROP TABLE alert_notification_holds;
    ALTER TABLE alert_policies DROP COLUMN timezone, DROP COLUMN time_restriction;
  `.execute(db);
}
