import { sql, type Kysely } from 'kysely';

/**
 * A console's live stream filters each announced alert change against the alerts its caller may see,
 * which it keeps a while (alerts/live-routes.ts `scopeNow`). That depends on the caller's teams, their
 * role and custom role, that role's rights, and on them not being blocked, none of which was announced:
 * a user who joined a team missed its alerts' changes, and one who left it went on being told them, for
 * up to a keep-alive. Each of these changes now announces, on the alerts' channel, that who sees what
 * changed in the organization (`scope: true`, with `more`, naming no alert): its streams read their
 * caller and scope again, and the console reads its list again.
 *
 * Only while a console listens, as for the alert announcements. Team members are added and removed in
 * batches (a team created with its members, a user or team deleted), so those triggers are statement-
 * level, one notification per organization; the others are row-level, rare, and limited to the columns
 * that matter, and PostgreSQL folds a transaction's identical notifications into one. The organization
 * of a member is their user's, or their team's when the user is the one deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION vigil_announce_scope_change(org uuid) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(
        'vigil_alerts',
        json_build_object('org', org, 'ids', json_build_array(), 'more', true, 'scope', true)::text
      );
    END
    $$;

    CREATE FUNCTION vigil_announce_member_changes() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      member_org record;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
        RETURN NULL;
      END IF;
      FOR member_org IN
        SELECT u.org_id FROM changed_members m JOIN users u ON u.id = m.user_id
        UNION
        SELECT t.org_id FROM changed_members m JOIN teams t ON t.id = m.team_id
      LOOP
        PERFORM vigil_announce_scope_change(member_org.org_id);
      END LOOP;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER team_members_announce_insert AFTER INSERT ON team_members
      REFERENCING NEW TABLE AS changed_members FOR EACH STATEMENT
      EXECUTE FUNCTION vigil_announce_member_changes();
    CREATE TRIGGER team_members_announce_delete AFTER DELETE ON team_members
      REFERENCING OLD TABLE AS changed_members FOR EACH STATEMENT
      EXECUTE FUNCTION vigil_announce_member_changes();

    CREATE FUNCTION vigil_announce_scope_row() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      org uuid;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
        RETURN NULL;
      END IF;
      IF TG_TABLE_NAME = 'team_members' THEN
        SELECT t.org_id INTO org FROM teams t WHERE t.id IN (OLD.team_id, NEW.team_id) LIMIT 1;
      ELSE
        org := NEW.org_id;
      END IF;
      IF org IS NOT NULL THEN
        PERFORM vigil_announce_scope_change(org);
      END IF;
      RETURN NULL;
    END
    $$;
    -- A member moved to another team or user (a member's role in a team does not change what they see).
    CREATE TRIGGER team_members_announce_update AFTER UPDATE OF team_id, user_id ON team_members
      FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.user_id IS DISTINCT FROM NEW.user_id)
      EXECUTE FUNCTION vigil_announce_scope_row();
    CREATE TRIGGER users_announce_scope_update AFTER UPDATE OF role, custom_role_id, blocked ON users
      FOR EACH ROW WHEN (
        OLD.role IS DISTINCT FROM NEW.role
        OR OLD.custom_role_id IS DISTINCT FROM NEW.custom_role_id
        OR OLD.blocked IS DISTINCT FROM NEW.blocked
      )
      EXECUTE FUNCTION vigil_announce_scope_row();
    CREATE TRIGGER custom_user_roles_announce_update
      AFTER UPDATE OF extended_role, granted_rights, disallowed_rights ON custom_user_roles
      FOR EACH ROW WHEN (
        OLD.extended_role IS DISTINCT FROM NEW.extended_role
        OR OLD.granted_rights IS DISTINCT FROM NEW.granted_rights
        OR OLD.disallowed_rights IS DISTINCT FROM NEW.disallowed_rights
      )
      EXECUTE FUNCTION vigil_announce_scope_row();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER custom_user_roles_announce_update ON custom_user_roles;
    DROP TRIGGER users_announce_scope_update ON users;
    DROP TRIGGER team_members_announce_update ON team_members;
    DROP TRIGGER team_members_announce_delete ON team_members;
    DROP TRIGGER team_members_announce_insert ON team_members;
    DROP FUNCTION vigil_announce_scope_row();
    DROP FUNCTION vigil_announce_member_changes();
    DROP FUNCTION vigil_announce_scope_change(uuid);
  `.execute(db);
}
