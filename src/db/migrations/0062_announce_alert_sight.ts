import { sql, type Kysely } from 'kysely';

/**
 * The console's live feed (migrations 0011, 0041, 0059) told only of alert rows that changed, and a
 * stream tells each viewer only the alerts they may see as they are now. A page makes the alert its
 * recipient's (alerts/repository.ts `isTheirs` counts the notifications of a user) without the alert
 * row changing, so the paged on-call's open list never showed it. A statement adding notifications for
 * users now announces their alerts, as an alert change is announced (the same payload, up to 100 ids
 * per organization and `more` beyond): only while a console listens, as for the others, and
 * statement-level, so a batch costs one notification per organization.
 *
 * An alert that leaves a viewer's sight (assigned away, responders, teams or visibleTo changed) is
 * still not announced to them: the alerts update trigger stays as 0011 and 0041 left it. Telling them
 * would need the rows as they were (an OLD TABLE, which PostgreSQL fills on every update even with no
 * console open, as the trigger's early return comes after it is filled) and would make every viewer
 * who sees only some alerts read their list again whenever any alert's owner changed, an acknowledge
 * of an unowned alert included. Their list drops it at its next read (alerts/live-routes.ts `tell`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION vigil_announce_paged_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      paged_org record;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
        RETURN NULL;
      END IF;
      -- A notification to a destination that is no person (user_id null) makes the alert no one's.
      FOR paged_org IN
        SELECT org_id, (array_agg(alert_id))[1:100] AS ids, count(*) AS n
        FROM (SELECT DISTINCT org_id, alert_id FROM paged_notifications WHERE user_id IS NOT NULL) AS paged
        GROUP BY org_id
      LOOP
        PERFORM pg_notify(
          'vigil_alerts',
          json_build_object('org', paged_org.org_id, 'ids', paged_org.ids, 'more', paged_org.n > 100)::text
        );
      END LOOP;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER notifications_announce_insert AFTER INSERT ON notifications
      REFERENCING NEW TABLE AS paged_notifications FOR EACH STATEMENT
      EXECUTE FUNCTION vigil_announce_paged_alerts();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER notifications_announce_insert ON notifications;
    DROP FUNCTION vigil_announce_paged_alerts();
  `.execute(db);
}
