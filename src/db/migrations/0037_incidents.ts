import { sql, type Kysely } from 'kysely';

/**
 * Incidents (Opsgenie's Incident API). An incident pages nobody itself: its responders are paged through
 * the alert it is created with (and one more each time it is reopened), which `incident_alerts` links to
 * it. A link goes with its alert when that is deleted, and the alert stays when the incident is deleted.
 *
 * tinyId counts per organization from `incident_counters`, one row each, taken with the insert: a number
 * is never given twice, not even after the incident that had it is deleted. `team_ids` are the incident's
 * team responders, which is what an integration's key sees incidents by (as alerts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE incident_counters (
      org_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
      last_tiny_id bigint NOT NULL
    );

    CREATE TABLE incidents (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      tiny_id bigint NOT NULL,
      message text NOT NULL,
      description text NOT NULL DEFAULT '',
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'closed')),
      priority text NOT NULL DEFAULT 'P3' CHECK (priority IN ('P1', 'P2', 'P3', 'P4', 'P5')),
      tags text[] NOT NULL DEFAULT '{}',
      details jsonb NOT NULL DEFAULT '{}',
      responders jsonb NOT NULL DEFAULT '[]',
      team_ids uuid[] NOT NULL DEFAULT '{}',
      impacted_services text[] NOT NULL DEFAULT '{}',
      status_page_entry jsonb,
      notify_stakeholders boolean NOT NULL DEFAULT false,
      created_by text NOT NULL DEFAULT '',
      integration_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (org_id, tiny_id)
    );
    CREATE INDEX incidents_org_created ON incidents (org_id, created_at DESC);
    CREATE INDEX incidents_team_ids ON incidents USING gin (team_ids);

    CREATE TABLE incident_alerts (
      incident_id uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (incident_id, alert_id)
    );
    CREATE INDEX incident_alerts_alert ON incident_alerts (alert_id);

    CREATE TABLE incident_notes (
      id bigserial PRIMARY KEY,
      incident_id uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
      note text NOT NULL,
      owner text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX incident_notes_incident ON incident_notes (incident_id, id);

    CREATE TABLE incident_logs (
      id bigserial PRIMARY KEY,
      incident_id uuid NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
      type text NOT NULL,
      log text NOT NULL,
      owner text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX incident_logs_incident ON incident_logs (incident_id, id);

    -- The outcome of each Incident API request, for GET /v1/incidents/requests/{requestId}.
    CREATE TABLE incident_requests (
      id text PRIMARY KEY,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      action text NOT NULL,
      success boolean NOT NULL,
      status text NOT NULL,
      incident_id uuid,
      integration_id uuid,
      processed_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX incident_requests_processed ON incident_requests (processed_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE incident_requests, incident_logs, incident_notes, incident_alerts, incidents, incident_counters;
  `.execute(db);
}
