import { sql, type Kysely } from 'kysely';

/**
 * A Webhook integration's settings (`webhookUrl`, `headers`, `addAlertDescription`, `addAlertDetails`) are
 * its own destination's config (the oldest webhook on the integration) under Opsgenie's names. A change
 * made through /v2/destinations was not written back to them, so an integration may show a URL Vigil no
 * longer sends to, and its next update would move the destination back there or be refused for its stored
 * header values. Each one's settings are set from its own destination, a flag it leaves out being true as
 * the sender takes it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE integrations i
    SET settings = i.settings || jsonb_build_object(
      'webhookUrl', own.config->'url',
      'headers', coalesce(own.config->'headers', '{}'::jsonb),
      'addAlertDescription', coalesce(own.config->'addAlertDescription', 'true'::jsonb),
      'addAlertDetails', coalesce(own.config->'addAlertDetails', 'true'::jsonb)
    )
    FROM (
      SELECT DISTINCT ON (integration_id) integration_id, config
      FROM team_destinations
      WHERE type = 'webhook' AND integration_id IS NOT NULL
      ORDER BY integration_id, created_at
    ) own
    WHERE own.integration_id = i.id AND i.type = 'Webhook' AND jsonb_typeof(own.config->'url') = 'string'
  `.execute(db);
}

export async function down(): Promise<void> {
  // Settings in step with the destination are what the older Vigil writes too: nothing to undo.
}
