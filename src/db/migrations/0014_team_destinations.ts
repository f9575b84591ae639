import { sql, type Kysely } from 'kysely';

/**
 * Team destinations: places a team's (or an integration's) alert events go that are not a person (a
 * signed webhook, a Slack or Teams channel), and the log of what was delivered to each. A delivery is one
 * event for one destination (unique, so an event handed out again adds nothing); those of one destination
 * about one alert go in the order of the changes (`seq`), so the claim index leads with that pair.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE team_destinations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      team_id uuid REFERENCES teams(id) ON DELETE CASCADE,
      integration_id uuid REFERENCES integrations(id) ON DELETE CASCADE,
      type text NOT NULL,
      name text NOT NULL,
      config jsonb NOT NULL DEFAULT '{}',
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      disabled_at timestamptz,
      -- Since when every attempt has failed (null after a success): a whole day of it disables the destination.
      failing_since timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT team_destinations_one_owner CHECK (num_nonnulls(team_id, integration_id) = 1)
    );
    CREATE UNIQUE INDEX team_destinations_name ON team_destinations (org_id, lower(name));
    CREATE INDEX team_destinations_team ON team_destinations (team_id) WHERE team_id IS NOT NULL;
    CREATE INDEX team_destinations_integration ON team_destinations (integration_id)
      WHERE integration_id IS NOT NULL;

    CREATE TABLE team_destination_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      destination_id uuid NOT NULL REFERENCES team_destinations(id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      -- No foreign key: a deleted alert's events are still delivered.
      alert_id uuid NOT NULL,
      event_type text NOT NULL,
      event jsonb NOT NULL,
      seq bigint NOT NULL,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
      attempts int NOT NULL DEFAULT 0,
      due_at timestamptz NOT NULL,
      lease_until timestamptz,
      first_attempt_at timestamptz,
      last_error text,
      response_status int,
      response_excerpt text,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (destination_id, event_id)
    );
    -- The claim: what is due, and for each, whether an earlier change to the same alert is still unsent.
    CREATE INDEX team_destination_deliveries_due ON team_destination_deliveries (due_at)
      WHERE state IN ('pending', 'sending');
    CREATE INDEX team_destination_deliveries_order ON team_destination_deliveries (destination_id, alert_id, seq)
      WHERE state IN ('pending', 'sending');
    -- The delivery log (newest first) and retention.
    CREATE INDEX team_destination_deliveries_log ON team_destination_deliveries (destination_id, created_at DESC);
    CREATE INDEX team_destination_deliveries_created ON team_destination_deliveries (created_at)
      WHERE state IN ('sent', 'failed');
    -- A deleted alert's event goes to the destinations that had its earlier events.
    CREATE INDEX team_destination_deliveries_alert ON team_destination_deliveries (alert_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE team_destination_deliveries;
    DROP TABLE team_destinations;
  `.execute(db);
}
