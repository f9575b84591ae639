import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE integrations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      type text NOT NULL,
      name text NOT NULL,
      -- An integration belongs to a team; deleting the team is refused while it owns integrations.
      owner_team_id uuid NOT NULL REFERENCES teams(id) ON DELETE RESTRICT,
      assignee_team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
      enabled boolean NOT NULL DEFAULT true,
      api_key_lookup text NOT NULL,
      api_key_hash bytea NOT NULL,
      external_id text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX integrations_org_name ON integrations (org_id, lower(name));
    CREATE INDEX integrations_key ON integrations (api_key_lookup);

    CREATE TABLE sns_subscriptions (
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      topic_arn text NOT NULL,
      subscription_arn text,
      status text NOT NULL CHECK (status IN ('confirmed', 'unsubscribed')),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, topic_arn)
    );

    -- Every delivery, whatever became of it: what a person opens when "my finding didn't page anyone".
    CREATE TABLE integration_payloads (
      id bigserial PRIMARY KEY,
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      received_at timestamptz NOT NULL DEFAULT now(),
      message_id text,
      kind text NOT NULL,
      verdict text NOT NULL,
      reason text,
      alert_ids uuid[] NOT NULL DEFAULT '{}',
      content_type text,
      body text NOT NULL
    );
    -- Bodies are kept as received, uncompressed: compressing every delivery costs the intake more CPU
    -- than the disk it saves over a 14-day retention.
    ALTER TABLE integration_payloads ALTER COLUMN body SET STORAGE EXTERNAL;
    CREATE INDEX integration_payloads_integration ON integration_payloads (integration_id, id DESC);
    CREATE INDEX integration_payloads_received ON integration_payloads (received_at);
    -- The queue of stored deliveries the workers have yet to make into alerts.
    CREATE INDEX integration_payloads_queued ON integration_payloads (id) WHERE verdict = 'queued';

    -- SNS MessageIds already acted on: a retry changes nothing and still gets 2xx.
    CREATE TABLE sns_processed_messages (
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      message_id text NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, message_id)
    );
    CREATE INDEX sns_processed_messages_at ON sns_processed_messages (processed_at);

    -- One finding, one alert: the finding's last known state and the alert it feeds.
    CREATE TABLE securityhub_findings (
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      product_arn text NOT NULL,
      finding_id text NOT NULL,
      alert_id uuid REFERENCES alerts(id) ON DELETE SET NULL,
      provider_severity text,
      severity_label text,
      workflow_status text,
      record_state text,
      compliance_status text,
      note_text text,
      finding_updated_at text,
      -- What Vigil itself last wrote to the finding, so the echo of that write changes nothing.
      written_back jsonb,
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, product_arn, finding_id)
    );
    CREATE INDEX securityhub_findings_alert ON securityhub_findings (alert_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE securityhub_findings, sns_processed_messages, integration_payloads, sns_subscriptions, integrations`.execute(
    db,
  );
}
