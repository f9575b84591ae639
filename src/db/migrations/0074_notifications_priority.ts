import { sql, type Kysely } from 'kysely';

/**
 * The priority of a message's alert (P1..P5 as 1..5), copied when it is planned, so that the sender
 * claims by priority first, then due time (notify/repository.ts, claimDue): a P1 page due now goes before
 * a flood of P5 pages due earlier, which a slow lane (email: one round at a time) would otherwise send
 * first. Rows planned before this migration, and rows written without one, are P3 (the alerts' own
 * default): their alert's priority is not looked up, as a pending page is minutes old at most. The CHECK
 * is NOT VALID so that adding it does not scan the table (the sent history) under an exclusive lock: the
 * only existing value is the default.
 *
 * notifications_priority_due serves the claim's order, as notifications_due served the due order; it is
 * partial (pending only) so the sent history costs nothing. Plain, not CONCURRENTLY: the pending
 * migrations run in one transaction (as 0070 and 0072 build theirs).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notifications ADD COLUMN priority smallint NOT NULL DEFAULT 3;
    ALTER TABLE notifications
      ADD CONSTRAINT notifications_priority CHECK (priority BETWEEN 1 AND 5) NOT VALID;
    CREATE INDEX notifications_priority_due ON notifications (priority, due_at) WHERE state = 'pending';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX notifications_priority_due;
    ALTER TABLE notifications DROP COLUMN priority;
  `.execute(db);
}
