import { sql, type Kysely } from 'kysely';

/**
 * The console's live feed (migrations 0011, 0041, 0059) told only of alert rows that changed, and a
 * stream tells each viewer only the alerts they may see as they are now. Two changes of who may see an
 * alert went untold:
 *
 * - A page makes the alert its recipient's (alerts/repository.ts `isTheirs` counts the notifications
 *   of a user) without the alert row changing: the paged on-call's open list never showed it. A
 *   statement adding notifications for users now announces their alerts, as an alert change is
 *   announced (the same payload, up to 100 ids per organization and `more` beyond).
 * - An update that takes an alert out of a viewer's sight (another owner, responders, teams,
 *   visibleTo) was filtered against the alert's new state, so that viewer heard nothing and kept it.
 *   An update's announcement now says `sight: true` when one of those columns changed, and a stream
 *   that sees only some alerts says `more` (read everything again, naming nothing) when such a change
 *   is not one it may see now (alerts/live-routes.ts).
 *
 * Both only while a console listens, as for the others; statement-level, so a batch costs one
 * notification per organization.
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

    CREATE FUNCTION vigil_announce_updated_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      changed_org record;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
        RETURN NULL;
      END IF;
      -- The columns that decide who sees an alert (alerts/repository.ts, isTheirs and isIntegrations).
      FOR changed_org IN
        SELECT changed.org_id, (array_agg(changed.id))[1:100] AS ids, count(*) AS n,
          bool_or(
            changed.owner IS DISTINCT FROM was.owner
            OR changed.responders IS DISTINCT FROM was.responders
            OR changed.team_ids IS DISTINCT FROM was.team_ids
            OR changed.visible_to IS DISTINCT FROM was.visible_to
            OR changed.integration_id IS DISTINCT FROM was.integration_id
          ) AS sight
        FROM changed_alerts changed JOIN old_alerts was ON was.id = changed.id
        GROUP BY changed.org_id
      LOOP
        PERFORM pg_notify(
          'vigil_alerts',
          json_build_object(
            'org', changed_org.org_id, 'ids', changed_org.ids, 'more', changed_org.n > 100,
            'sight', changed_org.sight
          )::text
        );
      END LOOP;
      RETURN NULL;
    END
    $$;
    DROP TRIGGER alerts_announce_update ON alerts;
    CREATE TRIGGER alerts_announce_update AFTER UPDATE ON alerts
      REFERENCING OLD TABLE AS old_alerts NEW TABLE AS changed_alerts FOR EACH STATEMENT
      EXECUTE FUNCTION vigil_announce_updated_alerts();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER alerts_announce_update ON alerts;
    CREATE TRIGGER alerts_announce_update AFTER UPDATE ON alerts
      REFERENCING NEW TABLE AS changed_alerts FOR EACH STATEMENT EXECUTE FUNCTION vigil_announce_alerts();
    DROP FUNCTION vigil_announce_updated_alerts();
    DROP TRIGGER notifications_announce_insert ON notifications;
    DROP FUNCTION vigil_announce_paged_alerts();
  `.execute(db);
}
