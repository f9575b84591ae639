import { sql, type Kysely } from 'kysely';

/**
 * The notification rule and step that planned a message (`notifications.rule_id`, `rule_step`), so that
 * the sender checks them again when a delayed step falls due: a rule disabled or deleted, or a step
 * disabled, deleted or pointed at another contact since the page was planned no longer sends it. The
 * step is kept as planned (id, contact, delay), not by id alone: replacing a rule's steps (PATCH with
 * `steps`, as Terraform does) gives them new ids, and a step given again as it was is still the same
 * step. No foreign key: a deleted rule must still be told from a message that no rule planned
 * (escalation destinations, policies), and deleting a rule need not touch the notifications table.
 * Messages planned before this migration have neither, and are sent as they were planned.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // NOT VALID: checked for every row written from now on, while the rows already there (whose new columns
  // are all null, so they pass) are not read. Validating them would read every message under the table's
  // strongest lock (migrations run in one transaction), holding up planning and sending meanwhile.
  await sql`
    ALTER TABLE notifications
      ADD COLUMN rule_id uuid,
      ADD COLUMN rule_step jsonb,
      ADD CONSTRAINT notifications_rule_step CHECK ((rule_id IS NULL) = (rule_step IS NULL)) NOT VALID
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notifications
      DROP CONSTRAINT notifications_rule_step,
      DROP COLUMN rule_step,
      DROP COLUMN rule_id
  `.execute(db);
}
