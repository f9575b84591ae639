import { sql, type Kysely } from 'kysely';

/**
 * Phones (SMS and voice through Twilio):
 * - a contact method is verified before it is paged (a code sent by its own channel), and can carry a
 *   problem the provider reported (an invalid number, a landline for SMS, a STOP reply) that keeps it
 *   from being paged until it is verified again or the person texts START;
 * - the codes people answer an SMS with ("1a"), unique per phone among its open alerts;
 * SMS and voice contacts made before this were never sent to (Vigil could not send them): they start
 * unverified. Email and push contacts need no verification (verified_at stays null for them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE contact_methods
      ADD COLUMN verified_at timestamptz,
      ADD COLUMN problem text,
      ADD COLUMN problem_at timestamptz;

    CREATE TABLE contact_verifications (
      contact_method_id uuid PRIMARY KEY REFERENCES contact_methods(id) ON DELETE CASCADE,
      code_hash bytea NOT NULL,
      sent_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      attempts int NOT NULL DEFAULT 0
    );

    CREATE TABLE sms_reply_codes (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      phone text NOT NULL,
      code int NOT NULL CHECK (code > 0),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      alert_ids uuid[] NOT NULL,
      created_at timestamptz NOT NULL,
      UNIQUE (phone, code)
    );
    CREATE INDEX sms_reply_codes_alerts ON sms_reply_codes USING gin (alert_ids);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE sms_reply_codes;
    DROP TABLE contact_verifications;
    ALTER TABLE contact_methods DROP COLUMN verified_at, DROP COLUMN problem, DROP COLUMN problem_at;
  `.execute(db);
}
