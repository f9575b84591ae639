import { sql, type Kysely } from 'kysely';

/**
 * A team's log (Opsgenie's List Team Logs): one line per change to the team, its members or its routing
 * rules, who made it and when. It goes with its team.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE team_logs (
      id bigserial PRIMARY KEY,
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      log text NOT NULL,
      owner text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX team_logs_team ON team_logs (team_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE team_logs`.execute(db);
}
