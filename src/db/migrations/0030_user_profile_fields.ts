import { sql, type Kysely } from 'kysely';

/**
 * The user fields Opsgenie keeps that Vigil used to drop: tags, a Skype username and a postal address
 * ({country, state, city, line, zipCode}, each '' when not given). Clients such as Opsgenie's Terraform
 * provider send them and read them back; dropping them made a change on every plan.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE users
      ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
      ADD COLUMN skype_username text NOT NULL DEFAULT '',
      ADD COLUMN user_address jsonb NOT NULL DEFAULT '{}';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE users DROP COLUMN tags, DROP COLUMN skype_username, DROP COLUMN user_address;
  `.execute(db);
}
