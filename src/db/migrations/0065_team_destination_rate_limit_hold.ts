import { sql, type Kysely } from 'kysely';

/**
 * A team destination that answered 429 with a Retry-After is held, as a whole, until then
 * (notify/team-destinations): its receiver limits the endpoint, not one delivery, so the claim leaves
 * every delivery to it waiting rather than sending each (a storm's every alert) to meet its own 429.
 * Null, or past: not held. No index: the claim looks it up by the destination's primary key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE team_destinations ADD COLUMN rate_limited_until timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE team_destinations DROP COLUMN rate_limited_until`.execute(db);
}
