import { sql, type Kysely } from 'kysely';

/**
 * `contact_methods.given_to`: a contact's address as its owner wrote it, when that differs from the
 * `address` Vigil sends to (a phone number in Opsgenie's "39-3331234567" form is sent to as +393331234567).
 * Opsgenie's API answers `to` as written, and Terraform's opsgenie_user_contact would otherwise show the
 * normalized number as a change on every plan. Null: as written is `address`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_methods ADD COLUMN given_to text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE contact_methods DROP COLUMN given_to`.execute(db);
}
