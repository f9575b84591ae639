import { sql, type Kysely } from 'kysely';

/**
 * Deleting alerts (DELETE /v2/alerts/{id}) is announced on the console's live
 * feed too (migrations 0011 and 0041 announce inserts and updates): a list or an alert's page open
 * elsewhere would go on showing an alert that is gone. The feed tells only ids a viewer may see, and a
 * deleted alert can no longer be looked up, so a delete says `more` (read everything again) for its
 * organization, naming nothing. Only while a console listens, as for the others.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION vigil_announce_deleted_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      deleted_org record;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
        RETURN NULL;
      END IF;
      FOR deleted_org IN SELECT DISTINCT org_id FROM deleted_alerts LOOP
        PERFORM pg_notify(
          'vigil_alerts',
          json_build_object('org', deleted_org.org_id, 'ids', json_build_array(), 'more', true)::text
        );
      END LOOP;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER alerts_announce_delete AFTER DELETE ON alerts
      REFERENCING OLD TABLE AS deleted_alerts FOR EACH STATEMENT EXECUTE FUNCTION vigil_announce_deleted_alerts();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER alerts_announce_delete ON alerts;
    DROP FUNCTION vigil_announce_deleted_alerts();
  `.execute(db);
}
