import { sql, type Kysely } from 'kysely';

/**
 * The messages each Email integration has taken, by Message-ID, so a message the sending server retries
 * (after a 451 for another of its recipients) makes no second alert. `message_key` is the Message-ID, or
 * its digest when too long for the index (db/storable.ts indexKey). `request_id` is the alert request made
 * of it (GET /v2/alerts/requests/{id}); `verdict` and `alert_id` what came of it, to answer a retry with
 * (a refusal of the alert service is not kept: it made nothing, so a retry may try again).
 * Rows go with their integration, and are purged after a week by retention.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE email_messages (
      integration_id uuid NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
      message_key text NOT NULL,
      request_id text NOT NULL,
      verdict text NOT NULL CHECK (verdict IN ('created', 'ignored')),
      alert_id uuid,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (integration_id, message_key)
    );
    CREATE INDEX email_messages_received_at ON email_messages (received_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE email_messages`.execute(db);
}
