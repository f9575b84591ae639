import { sql, type Kysely } from 'kysely';

/**
 * A console's live stream filters each announced alert change against the alerts its caller may see,
 * which it keeps a while (alerts/live-routes.ts `scopeNow`). That depends on the caller's teams, their
 * role and custom role, that role's rights, and on them not being blocked, none of which was announced:
 * a user who joined a team missed its alerts' changes, and one who left it went on being told them, for
 * up to a keep-alive. Each of these changes now announces, on the alerts' channel, that who sees what
 * changed in the organization (`scope: true`, with `more`, naming no alert), and for whom (`users`, or
 * `roles`: the holders of these custom roles; neither, anyone of it): their streams read their caller
 * and scope again, and their consoles read their lists again; the others' are left alone.
 *
 * Only while a console listens, as for the alert announcements. Team members are added and removed in
 * batches (a team created with its members, a user or team deleted), so those triggers are statement-
 * level, one notification per organization; the others are row-level, rare, and limited to the columns
 * that matter, and PostgreSQL folds a transaction's identical notifications into one. The organization
 * of a member is their user's, or their team's when the user is the one deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- For these users and holders of these custom roles; naming neither (more than 100 users, which would
    -- not fit a notification's 8,000 bytes) is for anyone of the organization. \`principal\`: a user row
    -- changed, which each process's key cache may hold (the others change only what a stream's scope reads).
    CREATE FUNCTION vigil_announce_scope_change(org uuid, users uuid[], roles uuid[], principal boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(
        'vigil_alerts',
        (jsonb_build_object('org', org, 'ids', jsonb_build_array(), 'more', true, 'scope', true)
          || CASE WHEN coalesce(cardinality(users), 0) BETWEEN 1 AND 100
               THEN jsonb_build_object('users', to_jsonb(users)) ELSE '{}'::jsonb END
          || CASE WHEN coalesce(cardinality(roles), 0) > 0
               THEN jsonb_build_object('roles', to_jsonb(roles)) ELSE '{}'::jsonb END
          || CASE WHEN principal THEN jsonb_build_object('principal', true) ELSE '{}'::jsonb END)::text
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
        SELECT o.org_id, array_agg(DISTINCT o.user_id) AS users FROM (
          SELECT u.org_id, m.user_id FROM changed_members m JOIN users u ON u.id = m.user_id
          UNION
          SELECT t.org_id, m.user_id FROM changed_members m JOIN teams t ON t.id = m.team_id
        ) o GROUP BY o.org_id
      LOOP
        PERFORM vigil_announce_scope_change(member_org.org_id, member_org.users, NULL);
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
        IF org IS NOT NULL THEN
          PERFORM vigil_announce_scope_change(org, ARRAY[OLD.user_id, NEW.user_id], NULL);
        END IF;
      ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM vigil_announce_scope_change(NEW.org_id, ARRAY[NEW.id], NULL, true);
      ELSE
        PERFORM vigil_announce_scope_change(NEW.org_id, NULL, ARRAY[NEW.id]);
      END IF;
      RETURN NULL;
    END
    $$;
    -- A member moved to another team or user (a member's role in a team does not change what they see).
    CREATE TRIGGER team_members_announce_update AFTER UPDATE OF team_id, user_id ON team_members
      FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.user_id IS DISTINCT FROM NEW.user_id)
      EXECUTE FUNCTION vigil_announce_scope_row();
    -- The username too: a user's own alerts (their owner's name) are in their sight by it.
    CREATE TRIGGER users_announce_scope_update
      AFTER UPDATE OF role, custom_role_id, blocked, username ON users
      FOR EACH ROW WHEN (
        OLD.role IS DISTINCT FROM NEW.role
        OR OLD.username IS DISTINCT FROM NEW.username
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
    DROP FUNCTION vigil_announce_scope_change(uuid, uuid[], uuid[], boolean);
  `.execute(db);
}
