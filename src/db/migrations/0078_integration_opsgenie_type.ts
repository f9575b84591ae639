import { sql, type Kysely } from 'kysely';

/**
 * The Opsgenie type name of an integration made as one of Opsgenie's other types (Prometheus, Grafana,
 * Datadog, Marid, Zabbix…), which Vigil keeps as an API integration: its key uses the Alert API as an API
 * integration's does, and everything that depends on the kind reads `type` ('API'). The name is what the
 * integration shows as its type (Opsgenie's Terraform provider reads it back, and replaces the resource when
 * it differs). NULL for every other integration, which shows its `type`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE integrations ADD COLUMN opsgenie_type text
      CONSTRAINT integrations_opsgenie_type_is_api CHECK (opsgenie_type IS NULL OR type = 'API')
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE integrations DROP COLUMN opsgenie_type`.execute(db);
}
