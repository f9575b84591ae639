import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE organizations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      plan text NOT NULL DEFAULT 'enterprise' CHECK (plan IN ('standard', 'premium', 'enterprise')),
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      username text NOT NULL,
      full_name text NOT NULL,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'user')),
      time_zone text NOT NULL DEFAULT 'UTC',
      locale text NOT NULL DEFAULT 'en_US',
      blocked boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_org_username ON users (org_id, lower(username));

    CREATE TABLE teams (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX teams_org_name ON teams (org_id, lower(name));

    CREATE TABLE team_members (
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('admin', 'user')),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (team_id, user_id)
    );
    CREATE INDEX team_members_user ON team_members (user_id);

    CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      user_id uuid REFERENCES users(id) ON DELETE CASCADE,
      name text NOT NULL,
      -- The first bytes of the key's SHA-256, to find the row; the whole hash is compared in constant time.
      lookup text NOT NULL,
      key_hash bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz
    );
    CREATE INDEX api_keys_lookup ON api_keys (lookup);

    CREATE SEQUENCE alert_tiny_id_seq;

    CREATE TABLE alerts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tiny_id bigint NOT NULL DEFAULT nextval('alert_tiny_id_seq') UNIQUE,
      alias text NOT NULL,
      message text NOT NULL,
      description text NOT NULL DEFAULT '',
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
      acknowledged boolean NOT NULL DEFAULT false,
      is_seen boolean NOT NULL DEFAULT false,
      snoozed boolean NOT NULL DEFAULT false,
      snoozed_until timestamptz,
      count integer NOT NULL DEFAULT 1,
      last_occurred_at timestamptz NOT NULL DEFAULT now(),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      source text NOT NULL DEFAULT '',
      owner text NOT NULL DEFAULT '',
      priority text NOT NULL DEFAULT 'P3' CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
      entity text NOT NULL DEFAULT '',
      tags text[] NOT NULL DEFAULT '{}',
      details jsonb NOT NULL DEFAULT '{}',
      actions text[] NOT NULL DEFAULT '{}',
      responders jsonb NOT NULL DEFAULT '[]',
      visible_to jsonb NOT NULL DEFAULT '[]',
      team_ids uuid[] NOT NULL DEFAULT '{}',
      integration_id uuid,
      integration_name text,
      integration_type text,
      acknowledged_by text,
      ack_time bigint,
      closed_by text,
      close_time bigint
    );
    -- One open alert per alias: the heart of de-duplication, enforced by PostgreSQL under concurrency.
    CREATE UNIQUE INDEX alerts_open_alias ON alerts (org_id, alias) WHERE status = 'open';
    CREATE INDEX alerts_org_created ON alerts (org_id, created_at DESC);
    CREATE INDEX alerts_org_status ON alerts (org_id, status, created_at DESC);
    CREATE INDEX alerts_org_alias ON alerts (org_id, alias, created_at DESC);
    CREATE INDEX alerts_tags ON alerts USING gin (tags);
    CREATE INDEX alerts_team_ids ON alerts USING gin (team_ids);

    CREATE TABLE alert_logs (
      id bigserial PRIMARY KEY,
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      type text NOT NULL,
      log text NOT NULL,
      owner text NOT NULL
    );
    CREATE INDEX alert_logs_alert ON alert_logs (alert_id, id);

    CREATE TABLE alert_notes (
      id bigserial PRIMARY KEY,
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      note text NOT NULL,
      owner text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX alert_notes_alert ON alert_notes (alert_id, id);

    -- The outcome of each Alert API request, for GET /v2/alerts/requests/{requestId}.
    CREATE TABLE alert_requests (
      id text PRIMARY KEY,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      action text NOT NULL,
      success boolean NOT NULL,
      status text NOT NULL,
      alert_id uuid,
      alias text,
      integration_id uuid,
      processed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX alert_requests_processed ON alert_requests (processed_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE alert_requests, alert_notes, alert_logs, alerts, api_keys, team_members, teams, users, organizations;
    DROP SEQUENCE alert_tiny_id_seq;
  `.execute(db);
}
