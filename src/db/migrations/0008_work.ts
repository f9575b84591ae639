import { sql, type Kysely } from 'kysely';

/**
 * One way to run background work (engine/work): graphile-worker goes.
 * - Alert events leave the outbox as one delivery per consumer that takes their type
 *   (`event_deliveries`), claimed in batches with a lease, retried with backoff, dead after too many
 *   attempts (kept, with the error, for an operator to see).
 * - A snooze ends from the alert row itself (an index finds the snoozes due), not from a keyed job.
 * - Retention runs from a row of `work_schedules`, not from graphile's crontab.
 * Alert events still waiting in graphile-worker's queue are moved over, then its schema is dropped.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE event_deliveries (
      id bigserial PRIMARY KEY,
      consumer text NOT NULL,
      -- The event's place in the outbox: the order of changes to an alert.
      seq bigint NOT NULL,
      event jsonb NOT NULL,
      due_at timestamptz NOT NULL,
      lease_until timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      dead_at timestamptz
    );
    CREATE INDEX event_deliveries_due ON event_deliveries (consumer, due_at) WHERE dead_at IS NULL;
    CREATE INDEX event_deliveries_dead ON event_deliveries (dead_at) WHERE dead_at IS NOT NULL;

    CREATE TABLE work_schedules (
      name text PRIMARY KEY,
      next_at timestamptz NOT NULL
    );

    CREATE INDEX alerts_snooze_due ON alerts (snoozed_until) WHERE snoozed;
  `.execute(db);

  const graphile = await sql<{ exists: boolean }>`
    SELECT to_regclass('graphile_worker._private_jobs') IS NOT NULL AS exists`.execute(db);
  if (graphile.rows[0]?.exists) {
    // The consumers that existed when graphile-worker carried the events; each skips types it does not take.
    await sql`
      INSERT INTO event_deliveries (consumer, seq, event, due_at)
      SELECT c.consumer, coalesce((j.payload->>'seq')::bigint, 0), j.payload::jsonb, now()
      FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      CROSS JOIN (VALUES ('escalation'), ('securityhub-writeback')) AS c(consumer)
      WHERE t.identifier = 'alert-event' AND j.attempts < j.max_attempts`.execute(db);
    await sql`DROP SCHEMA graphile_worker CASCADE`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX alerts_snooze_due;
    DROP TABLE work_schedules, event_deliveries;
  `.execute(db);
}
