import { sql, type Kysely } from 'kysely';

/**
 * Who made each API key (`api_keys.created_by`): a key acts as its user, so the keys someone else made for
 * a person go when that person is made an owner, and those they made themselves stay. Keys made before
 * this migration have no maker (null), which counts as someone else: the safe side.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_keys ADD COLUMN created_by uuid REFERENCES users(id) ON DELETE SET NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE api_keys DROP COLUMN created_by`.execute(db);
}
