import { sql, type Kysely } from 'kysely';

/**
 * Verification codes and test messages each ring someone's phone and cost money, and were limited only by
 * the code row of their contact method (one a minute), which goes with the contact when it is deleted: a
 * user could delete and add the same number again, or add many contacts, and ring any phone on end.
 * `verification_sends` keeps one row per code or test sent, by organization, method and address rather
 * than by contact (so deleting the contact does not reset the wait) and by the person whose contact it
 * was (for a cap an hour). Its rows are useful for an hour; the maintenance purge drops older ones. No
 * foreign key to the contact or the user: a row must outlive both. Codes sent in the minute before this
 * migration are copied in, so that the upgrade does not reset their wait.
 *
 * SMS reply codes were freed the moment their alerts closed, and the next page to that phone took the
 * smallest free code: "1c" meant for a closed alert then closed the new alert that got code 1. A code
 * whose alerts are all closed is now only marked spent (`spent_at`), still answered for ("already
 * closed"), and given again 24 hours later.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE verification_sends (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      user_id uuid NOT NULL,
      method text NOT NULL,
      address text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('code', 'test')),
      sent_at timestamptz NOT NULL
    );
    CREATE INDEX verification_sends_address ON verification_sends (org_id, method, address, kind, sent_at);
    CREATE INDEX verification_sends_user ON verification_sends (user_id, sent_at);

    INSERT INTO verification_sends (org_id, user_id, method, address, kind, sent_at)
    SELECT u.org_id, u.id, c.method, v.address, 'code', v.sent_at
    FROM contact_verifications v
    JOIN contact_methods c ON c.id = v.contact_method_id
    JOIN users u ON u.id = c.user_id
    WHERE v.address IS NOT NULL AND v.sent_at > now() - interval '1 hour';

    ALTER TABLE sms_reply_codes ADD COLUMN spent_at timestamptz;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sms_reply_codes DROP COLUMN spent_at;
    DROP TABLE verification_sends;
  `.execute(db);
}
