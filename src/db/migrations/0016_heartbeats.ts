import { sql, type Kysely } from 'kysely';

/**
 * Heartbeats (Opsgenie's Heartbeat API): a named expectation that something pings at least every
 * interval. `expires_at` is when the heartbeat expires if no ping comes first, on the engine's Clock: set
 * while it is enabled and not expired, null otherwise, so the `heartbeats` queue finds what is due with
 * one index. `alert_id` is the alert its last expiry raised, until a ping closes it (no foreign key: an
 * alert may be deleted, and a ping then has nothing to close).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE heartbeats (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      interval_amount integer NOT NULL CHECK (interval_amount > 0),
      interval_unit text NOT NULL CHECK (interval_unit IN ('minutes', 'hours', 'days')),
      enabled boolean NOT NULL DEFAULT false,
      owner_team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
      alert_message text NOT NULL DEFAULT '',
      alert_tags text[] NOT NULL DEFAULT '{}',
      alert_priority text NOT NULL DEFAULT 'P3' CHECK (alert_priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
      last_ping_at timestamptz,
      watch_from timestamptz,
      expires_at timestamptz,
      expired boolean NOT NULL DEFAULT false,
      alert_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (org_id, name)
    );
    CREATE INDEX heartbeats_due ON heartbeats (expires_at) WHERE expires_at IS NOT NULL;
    CREATE INDEX heartbeats_owner_team ON heartbeats (owner_team_id) WHERE owner_team_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE heartbeats`.execute(db);
}
