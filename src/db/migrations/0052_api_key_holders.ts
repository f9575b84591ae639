import { sql, type Kysely } from 'kysely';

/**
 * Who saw each API key's value (`api_keys.holders`): whoever made it, and whoever could use the key it
 * was made with. A key acts as its user, so when a person is blocked or deleted the keys they hold for
 * others go, and when a person is made an owner the keys of theirs that others hold go. A NULL element
 * stands for someone not known (a key made with a key from before this migration); a NULL column, for a
 * key from before it, whose holders are all unknown.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_keys ADD COLUMN holders uuid[]`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_keys DROP COLUMN holders`.execute(db);
}
