import { sql, type Kysely } from 'kysely';

/**
 * When an escalation run started (or last started over) and when an escalate last moved it on: base_at
 * cannot tell, as an escalate sets it back by the delay of the rule it makes due, so an unacknowledge
 * handled after a later escalate took the run for one started before it and paged its first rule again
 * (engine/escalation/transition.ts, startsOverAtUnacknowledge). Nullable and not backfilled: a run
 * without a start reads its base_at, which is what the backfill would have written, and an older process
 * still running during an upgrade inserts runs without one. Adding nullable columns rewrites nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE alert_escalations ADD COLUMN started_at timestamptz, ADD COLUMN escalated_at timestamptz
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE alert_escalations DROP COLUMN escalated_at, DROP COLUMN started_at`.execute(db);
}
