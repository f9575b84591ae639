import { sql, type Kysely } from 'kysely';

/**
 * Web Push: one row per subscribed browser or installed web app. Each is also a `mobile` contact method of
 * its person (the contact's address is the subscription's id), so notification rules, the sender, its
 * throttles and the activity log treat a device like any other contact. Deleting either deletes both: the
 * contact method cascades to the subscription here, and the push module deletes the contact method when a
 * subscription goes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE push_subscriptions (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      endpoint text NOT NULL UNIQUE,
      p256dh text NOT NULL,
      auth text NOT NULL,
      device_name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_sent_at timestamptz,
      contact_method_id uuid NOT NULL UNIQUE REFERENCES contact_methods(id) ON DELETE CASCADE
    );
    CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, created_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM contact_methods WHERE id IN (SELECT contact_method_id FROM push_subscriptions);
    DROP TABLE push_subscriptions;
  `.execute(db);
}
