import { sql, type Kysely } from 'kysely';

/**
 * A finding remembers the EventBridge time of the last event applied to it
 * (`securityhub_findings.event_time`). UpdatedAt (OCSF modified_time) cannot order two events of one
 * finding when only Security Hub changed it between them: BatchUpdateFindings, Vigil's write-back and a
 * person's change in the console alike, leaves it as it was. A delivery delayed by a retry then arrived
 * after a newer one with the same UpdatedAt and was applied over it (an earlier NEW reopening a finding
 * closed since). Null until the finding's next event, and for an event without a time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE securityhub_findings ADD COLUMN event_time timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE securityhub_findings DROP COLUMN event_time`.execute(db);
}
