import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Each change to write back to one finding, from the alert event that caused it.
    CREATE TABLE securityhub_writebacks (
      id bigserial PRIMARY KEY,
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      alert_id uuid,
      product_arn text NOT NULL,
      finding_id text NOT NULL,
      field text NOT NULL CHECK (field IN ('workflow', 'severity', 'note')),
      value jsonb NOT NULL,
      event_id uuid NOT NULL,
      -- The event's order among changes to its alert: the latest change of a field wins.
      seq bigint NOT NULL DEFAULT 0,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'done', 'failed', 'superseded')),
      attempts integer NOT NULL DEFAULT 0,
      not_before timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (event_id, product_arn, finding_id)
    );
    CREATE INDEX securityhub_writebacks_due ON securityhub_writebacks (not_before, id) WHERE status IN ('pending', 'sending');
    CREATE INDEX securityhub_writebacks_finding ON securityhub_writebacks (integration_id, product_arn, finding_id, field)
      WHERE status IN ('pending', 'sending');
    CREATE INDEX securityhub_writebacks_done ON securityhub_writebacks (updated_at) WHERE status IN ('done', 'superseded', 'failed');

    -- Token buckets shared by every Vigil process: AWS's limits are per account and region.
    CREATE TABLE aws_rate_buckets (
      key text PRIMARY KEY,
      tokens double precision NOT NULL,
      updated_at timestamptz NOT NULL
    );

    ALTER TABLE integrations ADD COLUMN writeback_status jsonb;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE integrations DROP COLUMN writeback_status;
    DROP TABLE aws_rate_buckets, securityhub_writebacks;
  `.execute(db);
}
