import { sql, type Kysely } from 'kysely';

/**
 * Saved searches (Opsgenie's Alert API "saved searches"): a named alert query, owned by a user and shared
 * with teams, that GET /v2/alerts and /v2/alerts/count run by `searchIdentifier`. Names are unique per
 * organization, without regard to case (as team names are). `team_ids` are the teams it is shared with;
 * a team deleted later simply stops being listed. A deleted owner leaves the search without one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE saved_searches (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      query text NOT NULL,
      owner_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
      team_ids uuid[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX saved_searches_org_name ON saved_searches (org_id, lower(name));
    CREATE INDEX saved_searches_owner ON saved_searches (owner_user_id) WHERE owner_user_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE saved_searches`.execute(db);
}
