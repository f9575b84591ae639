import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * The live feed of the console's alert list (migration 0011) announces only while some Vigil process
 * wants it: each process with a console's live stream open keeps a row in `alert_feed_wishes`
 * (alerts/live.ts), renewed on its clock and forgotten by any API process once it is old (a process
 * that crashed). Each NOTIFY holds PostgreSQL's notify lock from before its transaction's commit until
 * after it, so every alert-changing transaction waited on every other's commit even with no console
 * open: about a twentieth of alert creates. Looking for a row costs a few microseconds a statement (asking
 * pg_stat_activity instead, for a connection named to say so, cost some 40).
 */

const WANTED = sql`
  IF NOT EXISTS (SELECT 1 FROM alert_feed_wishes) THEN
    RETURN NULL;
  END IF;
`;

/** The trigger function, announcing only when `guard` lets it; migration 0011's with no guard. */
function announceFunction(guard: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    CREATE OR REPLACE FUNCTION vigil_announce_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      changed_org record;
    BEGIN
      ${guard}
      FOR changed_org IN
        SELECT org_id, (array_agg(id))[1:100] AS ids, count(*) AS n FROM changed_alerts GROUP BY org_id
      LOOP
        PERFORM pg_notify(
          'vigil_alerts',
          json_build_object('org', changed_org.org_id, 'ids', changed_org.ids, 'more', changed_org.n > 100)::text
        );
      END LOOP;
      RETURN NULL;
    END
    $$
  `;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE alert_feed_wishes (
      process_id uuid PRIMARY KEY,
      renewed_at timestamptz NOT NULL
    )
  `.execute(db);
  await announceFunction(WANTED).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await announceFunction(sql``).execute(db);
  await sql`DROP TABLE alert_feed_wishes`.execute(db);
}
