import { sql, type Kysely } from 'kysely';

/**
 * What shapes an alert before it is made (src/alerts/shaping/): an API integration's actions (Opsgenie's
 * `/v2/integrations/{id}/actions`) and the organization's alert policies (`/v2/policies`).
 *
 * The actions are a column of the integration rather than a table: they are read with the integration on
 * every request its key makes (a read that is already cached), so an alert costs no extra query; and they
 * are replaced as a whole, as Opsgenie's PUT replaces them. NULL means never set: the integration creates,
 * closes, acknowledges and adds notes exactly as it did before actions existed.
 *
 * Policies belong to the organization (`team_id` NULL: global) or to one team; `position` orders them within
 * that scope. Filter and modifications are stored in the shapes the API validated.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE integrations ADD COLUMN actions jsonb;

    CREATE TABLE alert_policies (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      team_id uuid REFERENCES teams(id) ON DELETE CASCADE,
      name text NOT NULL,
      policy_description text NOT NULL DEFAULT '',
      position integer NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      filter jsonb NOT NULL,
      modifications jsonb NOT NULL,
      continue boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX alert_policies_name
      ON alert_policies (org_id, coalesce(team_id, '00000000-0000-0000-0000-000000000000'::uuid), name);
    CREATE INDEX alert_policies_order ON alert_policies (org_id, team_id, position);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE alert_policies; ALTER TABLE integrations DROP COLUMN actions`.execute(db);
}
