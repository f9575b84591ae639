import { sql, type Kysely } from 'kysely';

/**
 * Overrides of nobody (Opsgenie's `none` user): `schedule_overrides.user_id` may be null, and nobody is
 * on call in such an override's window (in the whole schedule, or in the rotations it names).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE schedule_overrides ALTER COLUMN user_id DROP NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The old schema cannot say "nobody": those overrides go.
  await sql`DELETE FROM schedule_overrides WHERE user_id IS NULL`.execute(db);
  await sql`ALTER TABLE schedule_overrides ALTER COLUMN user_id SET NOT NULL`.execute(db);
}
