import { sql, type Kysely } from 'kysely';

/**
 * An SNS subscription being confirmed: `pending` is recorded before Vigil GETs the SubscribeURL, because
 * SNS delivers the topic's notifications as soon as it has processed that GET, before Vigil has stored
 * `confirmed`; a notification refused in between (403) is never sent again
 * (securityhub/sns/subscription.ts).
 *
 * `confirmed_arns` holds every subscription of the topic Vigil confirmed and SNS has not reported removed:
 * while CloudFormation replaces a subscription both deliver, and a rollback deletes the newer one, so the
 * topic is turned off only when none known is left. Empty for a confirmed topic: which subscription
 * delivers is unknown, and any removal turns it off.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sns_subscriptions
      DROP CONSTRAINT sns_subscriptions_status_check,
      ADD CONSTRAINT sns_subscriptions_status_check CHECK (status IN ('confirmed', 'unsubscribed', 'pending')),
      ADD COLUMN confirmed_arns text[] NOT NULL DEFAULT '{}';
    UPDATE sns_subscriptions SET confirmed_arns = ARRAY[subscription_arn]
      WHERE status = 'confirmed' AND subscription_arn IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // A pending row left behind is a confirmation whose GET SNS accepted (a failed one is put back), so the
  // topic delivers: the code before this migration takes only confirmed topics, and would 403 it.
  await sql`
    UPDATE sns_subscriptions SET status = 'confirmed' WHERE status = 'pending';
    ALTER TABLE sns_subscriptions
      DROP CONSTRAINT sns_subscriptions_status_check,
      ADD CONSTRAINT sns_subscriptions_status_check CHECK (status IN ('confirmed', 'unsubscribed')),
      DROP COLUMN confirmed_arns;
  `.execute(db);
}
