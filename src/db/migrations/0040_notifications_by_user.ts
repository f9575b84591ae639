import { sql, type Kysely } from 'kysely';

/**
 * The alerts that paged a user, by user: a user who sees only their own alerts (alerts/visibility.ts) sees
 * those too, and every list and count of theirs asks for them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX notifications_user_alert ON notifications (user_id, alert_id) WHERE user_id IS NOT NULL
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX notifications_user_alert`.execute(db);
}
