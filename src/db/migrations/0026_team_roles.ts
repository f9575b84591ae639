import { sql, type Kysely } from 'kysely';

/**
 * Opsgenie's custom team roles: a team's own named sets of rights, given to members in place of the
 * built-in admin and user roles. A member with a custom role keeps role 'user' (so whatever asks "is this
 * a team admin" still answers no) and names the role; a role still held can not be deleted, and a member
 * can only hold a role of their own team.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE team_roles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      name text NOT NULL,
      -- The rights granted, by Opsgenie's names (some name features Vigil lacks: kept for a round trip).
      rights text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (team_id, id)
    );
    CREATE UNIQUE INDEX team_roles_team_name ON team_roles (team_id, lower(name));

    ALTER TABLE team_members
      ADD COLUMN team_role_id uuid,
      ADD CONSTRAINT team_members_team_role FOREIGN KEY (team_id, team_role_id) REFERENCES team_roles (team_id, id),
      ADD CONSTRAINT team_members_team_role_is_user CHECK (team_role_id IS NULL OR role = 'user');
    CREATE INDEX team_members_team_role ON team_members (team_role_id) WHERE team_role_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE team_members DROP COLUMN team_role_id;
    DROP TABLE team_roles;
  `.execute(db);
}
