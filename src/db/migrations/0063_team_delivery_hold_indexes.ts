import { sql, type Kysely } from 'kysely';

/**
 * A team destination's delivery waits while an earlier change to its alert is still on its way: an event
 * of the team-destinations consumer not yet handled, or an alert event still in the outbox
 * (notify/team-destinations/repository.ts). Every claim and every due-time query asks that of each due
 * delivery it looks at; with nothing indexed by alert, each ask read the consumer's whole backlog (a
 * claim took seconds once tens of thousands of events waited). These indexes answer it in a lookup.
 *
 * The write cost: one more index entry per alert event in the outbox (written in every change's own
 * transaction; the outbox is drained within moments, so the index stays small), and one per event handed
 * to the team-destinations consumer (only organizations with an enabled team destination get those). Both
 * are partial, so the other consumers' events and other outbox tasks pay nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX event_deliveries_team_destinations_alert
      ON event_deliveries ((event->>'alertId'), seq)
      WHERE consumer = 'team-destinations' AND dead_at IS NULL;
    CREATE INDEX outbox_jobs_alert_event_alert
      ON outbox_jobs ((payload->>'alertId'), id)
      WHERE task = 'alert-event';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX outbox_jobs_alert_event_alert;
    DROP INDEX event_deliveries_team_destinations_alert;
  `.execute(db);
}
