import { sql, type Kysely } from 'kysely';

/**
 * An Email integration's address (emailUsername@the inbound domain) is one per Vigil instance, whatever
 * the organization: the inbound SMTP listener finds the integration by it. The index makes the second of
 * two creates with one address fail, and is what the listener looks addresses up with.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE UNIQUE INDEX integrations_email_username_unique ON integrations ((settings->>'emailUsername')) WHERE type = 'Email'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX integrations_email_username_unique`.execute(db);
}
