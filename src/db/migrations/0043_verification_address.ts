import { sql, type Kysely } from 'kysely';

/**
 * A verification code proves that one address reaches its person. The code's row named only the contact
 * method, so a code sent to one number, entered after the contact was changed to another, verified the new
 * number, which had never received a code (and a stranger's phone could then be paged). Each code now
 * keeps the address it was sent to; a code whose address is not the contact's any more does not verify.
 * Codes sent before this migration have none and must be sent again (they last 10 minutes).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_verifications ADD COLUMN address text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_verifications DROP COLUMN address`.execute(db);
}
