import { sql, type Kysely } from 'kysely';

/**
 * An SNS subscription being confirmed: `pending` is recorded before Vigil GETs the SubscribeURL, because
 * SNS delivers the topic's notifications as soon as it has processed that GET, before Vigil has stored
 * `confirmed`; a notification refused in between (403) is never sent again
 * (securityhub/sns/subscription.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sns_subscriptions
      DROP CONSTRAINT sns_subscriptions_status_check,
      ADD CONSTRAINT sns_subscriptions_status_check CHECK (status IN ('confirmed', 'unsubscribed', 'pending'));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // A pending row only marks a confirmation in flight; without it the topic is unknown, as before.
  await sql`
    DELETE FROM sns_subscriptions WHERE status = 'pending';
    ALTER TABLE sns_subscriptions
      DROP CONSTRAINT sns_subscriptions_status_check,
      ADD CONSTRAINT sns_subscriptions_status_check CHECK (status IN ('confirmed', 'unsubscribed'));
  `.execute(db);
}
