import { sql, type Kysely } from 'kysely';

/**
 * Opsgenie's `timeRestriction` and `repeat` on people's notification rules (oncall/people/):
 *
 * - `time_restriction`: the rule applies only inside it, read in the user's time zone (as Opsgenie reads
 *   it); null, at all times. The routing rules' shape (oncall/schedule.ts's TimeRestriction).
 * - `repeat`: `{"loopAfterMinutes", "enabled"}` as given; null when none was given.
 *
 * Steps keep the order they were given in from now on (Opsgenie and Terraform's ordered `step` list need
 * it); rules saved before keep the firing order they were stored in, which is an order given too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notification_rules
      ADD COLUMN time_restriction jsonb,
      ADD COLUMN repeat jsonb;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notification_rules
      DROP COLUMN time_restriction,
      DROP COLUMN repeat;
  `.execute(db);
}
