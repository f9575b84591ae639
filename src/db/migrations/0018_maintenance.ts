import { sql, type Kysely } from 'kysely';

/**
 * Maintenance (Opsgenie's Maintenance API): a window of time during which the integrations its rules name
 * are disabled. The window is stored as times on the engine's Clock and its status (planned, active, past,
 * cancelled) is worked out from them when read, so nothing has to run when a window opens or closes.
 * `end_at` is null only for an indefinite maintenance. A rule goes with its integration when that is
 * deleted; the index on `integration_id` is what the intake reads.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE maintenances (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      description text NOT NULL DEFAULT '',
      time_type text NOT NULL
        CHECK (time_type IN ('for-5-minutes', 'for-30-minutes', 'for-1-hour', 'indefinitely', 'schedule')),
      start_at timestamptz NOT NULL,
      end_at timestamptz,
      cancelled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (end_at IS NULL OR end_at > start_at),
      CHECK ((time_type = 'indefinitely') = (end_at IS NULL))
    );
    CREATE INDEX maintenances_org_start ON maintenances (org_id, start_at DESC);

    CREATE TABLE maintenance_rules (
      maintenance_id uuid NOT NULL REFERENCES maintenances(id) ON DELETE CASCADE,
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      state text NOT NULL DEFAULT 'disabled' CHECK (state = 'disabled'),
      position integer NOT NULL,
      PRIMARY KEY (maintenance_id, integration_id)
    );
    CREATE INDEX maintenance_rules_integration ON maintenance_rules (integration_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE maintenance_rules; DROP TABLE maintenances`.execute(db);
}
