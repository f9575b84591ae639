import { sql, type Kysely } from 'kysely';

/**
 * An SMS reply code stays taken when the person it was sent for is deleted: it was freed with them, so
 * another person paged on the same handset (a shared on-call phone) got it again while the old text's
 * alert was still open, and a late "1c" meant for that alert acted on the new one. The code now loses
 * its person (null) and is spent and freed as any other: a day after its alerts are all closed. A reply
 * with it acts on nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE sms_reply_codes
      ALTER COLUMN user_id DROP NOT NULL,
      DROP CONSTRAINT sms_reply_codes_user_id_fkey,
      ADD CONSTRAINT sms_reply_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM sms_reply_codes WHERE user_id IS NULL;
    ALTER TABLE sms_reply_codes
      DROP CONSTRAINT sms_reply_codes_user_id_fkey,
      ADD CONSTRAINT sms_reply_codes_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
      ALTER COLUMN user_id SET NOT NULL;
  `.execute(db);
}
