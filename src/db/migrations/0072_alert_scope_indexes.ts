import { sql, type Kysely } from 'kysely';

/**
 * Indexes for the alerts a restricted user or an integration's key sees (alerts/repository.ts,
 * `isTheirs` and `isIntegrations`): each of the scope's tests is served by one (with team_ids's GIN
 * index and the primary key), so PostgreSQL reads a small scope as an OR of index scans where it read
 * every alert of the organization. jsonb_path_ops: the scopes only ask whether responders or visibleTo
 * contain a reference (`@>`, `@?`), which these serve, and they are smaller than jsonb_ops.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX alerts_org_owner ON alerts (org_id, owner);
    CREATE INDEX alerts_integration ON alerts (integration_id) WHERE integration_id IS NOT NULL;
    CREATE INDEX alerts_responders ON alerts USING gin (responders jsonb_path_ops);
    CREATE INDEX alerts_visible_to ON alerts USING gin (visible_to jsonb_path_ops);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX alerts_visible_to, alerts_responders, alerts_integration, alerts_org_owner;
  `.execute(db);
}
