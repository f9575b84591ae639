import { sql, type Kysely } from 'kysely';

/**
 * An integration's key sees its team's alerts (its assignee team, else its owner team), and none once the
 * integration is turned off, deleted, its key replaced or its read access taken away. A live stream opened
 * with the key kept what it had read for up to a keep-alive: moved to another team, it went on being told
 * the old team's alert changes and not the new one's. Each of these changes now announces, as migration
 * 0067 does for users, that who sees what changed (`scope: true`, with `more`, naming no alert), for the
 * streams of this integration's key alone (`integrations`): they authenticate again and read their scope.
 *
 * Only while a console listens, and only for API integrations (no other kind's key opens a stream). A team
 * deleted takes itself away as an assignee (ON DELETE SET NULL), which is an update of these rows too.
 * No `principal`: the accounts' key cache holds no integration (their keys are the integrations
 * service's, which forgets them on its own changes).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION vigil_announce_integration_scope() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      changed record;
    BEGIN
      IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
      IF changed.type <> 'API' OR NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
        RETURN NULL;
      END IF;
      PERFORM pg_notify(
        'vigil_alerts',
        jsonb_build_object(
          'org', changed.org_id, 'ids', jsonb_build_array(), 'more', true, 'scope', true,
          'integrations', jsonb_build_array(changed.id)
        )::text
      );
      RETURN NULL;
    END
    $$;
    -- The settings hold the key's access flags (reading alerts among them).
    CREATE TRIGGER integrations_announce_scope_update
      AFTER UPDATE OF owner_team_id, assignee_team_id, enabled, api_key_hash, settings ON integrations
      FOR EACH ROW WHEN (
        OLD.owner_team_id IS DISTINCT FROM NEW.owner_team_id
        OR OLD.assignee_team_id IS DISTINCT FROM NEW.assignee_team_id
        OR OLD.enabled IS DISTINCT FROM NEW.enabled
        OR OLD.api_key_hash IS DISTINCT FROM NEW.api_key_hash
        OR OLD.settings IS DISTINCT FROM NEW.settings
      )
      EXECUTE FUNCTION vigil_announce_integration_scope();
    CREATE TRIGGER integrations_announce_scope_delete AFTER DELETE ON integrations
      FOR EACH ROW EXECUTE FUNCTION vigil_announce_integration_scope();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER integrations_announce_scope_delete ON integrations;
    DROP TRIGGER integrations_announce_scope_update ON integrations;
    DROP FUNCTION vigil_announce_integration_scope();
  `.execute(db);
}
