import { sql, type Kysely } from 'kysely';

/**
 * The next pending message of one destination type, for the notification sender's due time when a round
 * leaves a type out (another round of the process holds its lane: notify/sender.ts). Without it, the
 * due-time index filtered on the type walked every pending message of the types left out (20,000
 * pending emails: 6.9 ms and 10,500 buffers per call, each idle round). Partial, as notifications_due
 * is: only pending messages, so the sent history costs nothing. Plain, not CONCURRENTLY: the pending
 * migrations run in one transaction (which keeps writes to notifications waiting until the last has run).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX notifications_method_due ON notifications (method, due_at) WHERE state = 'pending'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX notifications_method_due`.execute(db);
}
