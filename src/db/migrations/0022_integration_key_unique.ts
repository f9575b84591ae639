import { sql, type Kysely } from 'kysely';

/**
 * An integration's key may now be given (an Opsgenie key moved here) rather than always made at random:
 * two integrations created at once with the same key would both pass the service's check, and the key
 * would then authenticate as whichever was found first. The index makes the second insert fail.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE UNIQUE INDEX integrations_key_hash_unique ON integrations (api_key_hash)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX integrations_key_hash_unique`.execute(db);
}
