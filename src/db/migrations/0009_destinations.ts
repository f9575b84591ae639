import { sql, type Kysely } from 'kysely';

/**
 * Messages go to destinations (notify/destinations), not only to people:
 * - a notification may have no user (a Slack channel, a webhook), and then names its destination;
 * - the list of contact-method kinds is the registry's, checked where input arrives, so a new kind is a
 *   new module and not a migration;
 * - the sends to one address over the last minutes are found by an index, for the per-address throttle.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE contact_methods DROP CONSTRAINT contact_methods_method_check;
    ALTER TABLE notifications
      ALTER COLUMN user_id DROP NOT NULL,
      ADD COLUMN destination_name text,
      ADD CONSTRAINT notifications_recipient CHECK (user_id IS NOT NULL OR destination_name IS NOT NULL);
    CREATE INDEX notifications_sent_to ON notifications (method, address, sent_at) WHERE state = 'sent';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX notifications_sent_to;
    DELETE FROM notifications WHERE user_id IS NULL;
    ALTER TABLE notifications
      DROP CONSTRAINT notifications_recipient,
      DROP COLUMN destination_name,
      ALTER COLUMN user_id SET NOT NULL;
    ALTER TABLE contact_methods
      ADD CONSTRAINT contact_methods_method_check CHECK (method IN ('email', 'sms', 'voice', 'mobile'));
  `.execute(db);
}
