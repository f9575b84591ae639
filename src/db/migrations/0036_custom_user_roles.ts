import { sql, type Kysely } from 'kysely';

/**
 * Opsgenie's custom user roles (/v2/roles): an organization's own roles, each extending a default role
 * (user, observer or stakeholder) with rights granted and rights taken away. A user given one keeps role
 * 'user' (so whatever asks "is this an org admin" still answers no) and names the role; a role still held
 * can not be deleted, and a user can only hold a role of their own organization.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE custom_user_roles (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      extended_role text NOT NULL DEFAULT 'user' CHECK (extended_role IN ('user', 'observer', 'stakeholder')),
      -- By Opsgenie's names; some name features Vigil lacks: kept for a round trip, never checked.
      granted_rights text[] NOT NULL DEFAULT '{}',
      disallowed_rights text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (org_id, id)
    );
    CREATE UNIQUE INDEX custom_user_roles_org_name ON custom_user_roles (org_id, lower(name));

    ALTER TABLE users
      ADD COLUMN custom_role_id uuid,
      ADD CONSTRAINT users_custom_role FOREIGN KEY (org_id, custom_role_id) REFERENCES custom_user_roles (org_id, id),
      ADD CONSTRAINT users_custom_role_is_user CHECK (custom_role_id IS NULL OR role = 'user');
    CREATE INDEX users_custom_role ON users (custom_role_id) WHERE custom_role_id IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE users DROP COLUMN custom_role_id;
    DROP TABLE custom_user_roles;
  `.execute(db);
}
