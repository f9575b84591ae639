import { sql, type Kysely } from 'kysely';

/**
 * A scheduled auto-close (`alert_auto_closes`) records the notification policy that scheduled it, so that
 * it lasts only while that policy still closes alerts, as its holds and auto-restarts do: the policy
 * service drops a policy's closes when it is deleted, disabled or loses its autoCloseAction, the opening of
 * a maintenance that disables it drops them too, and the `auto-closes` queue checks the policy again when
 * a close falls due.
 *
 * One row per alert and policy (it was one per alert, the earliest close winning): with one row per alert,
 * the close of another team's policy that still applies would be lost with the one dropped. The earliest
 * close still wins for one policy, and the alert closes at the earliest close among those whose policy
 * still applies.
 *
 * `policy_id` has no foreign key, as with holds and restarts: the row outlives the policy until the queue
 * or the policy service drops it. Rows from before this migration have no `policy_id` (their policy can
 * only be guessed from its name, and names are per team): they close the alert when due, as they did.
 * The unique key lets such a row stand beside those of new closes (NULLs are distinct), and every new
 * close has a policy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE alert_auto_closes
      ADD COLUMN policy_id uuid,
      DROP CONSTRAINT alert_auto_closes_pkey,
      ADD CONSTRAINT alert_auto_closes_alert_policy UNIQUE (alert_id, policy_id);
    CREATE INDEX alert_auto_closes_policy ON alert_auto_closes (policy_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Back to one row per alert: its earliest close is kept.
  await sql`
    DELETE FROM alert_auto_closes c WHERE EXISTS (
      SELECT 1 FROM alert_auto_closes e WHERE e.alert_id = c.alert_id
        AND (e.close_at, e.ctid) < (c.close_at, c.ctid));
    DROP INDEX alert_auto_closes_policy;
    ALTER TABLE alert_auto_closes
      DROP CONSTRAINT alert_auto_closes_alert_policy,
      DROP COLUMN policy_id,
      ADD PRIMARY KEY (alert_id);
  `.execute(db);
}
