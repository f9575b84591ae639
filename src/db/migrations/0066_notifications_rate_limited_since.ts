import { sql, type Kysely } from 'kysely';

/**
 * When a message to a person was first answered 429 by its provider (notify/sender.ts), on the engine's
 * clock: a rate-limited answer spends none of its attempts, so its backoff grows with how long it has been
 * limited, and it is given up once limited for too long (RATE_LIMITED_FOR_AT_MOST_MS). Null: never rate
 * limited. Only read on the row being recorded, so no index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications ADD COLUMN rate_limited_since timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications DROP COLUMN rate_limited_since`.execute(db);
}
