import { sql, type Kysely } from 'kysely';

/**
 * Notification rules of Opsgenie's `assigned-alert` action type: what to send a person when an alert is
 * assigned to them (by someone else). The other action types Opsgenie has (schedule-start, schedule-end,
 * incoming-call-routing) are still refused by the API, and so not allowed here either.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE notification_rules DROP CONSTRAINT notification_rules_action_type_check,
      ADD CONSTRAINT notification_rules_action_type_check
        CHECK (action_type IN ('create-alert', 'acknowledged-alert', 'closed-alert', 'add-note', 'assigned-alert'))
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM notification_rules WHERE action_type = 'assigned-alert'`.execute(db);
  await sql`
    ALTER TABLE notification_rules DROP CONSTRAINT notification_rules_action_type_check,
      ADD CONSTRAINT notification_rules_action_type_check
        CHECK (action_type IN ('create-alert', 'acknowledged-alert', 'closed-alert', 'add-note'))
  `.execute(db);
}
