import { sql, type Kysely } from 'kysely';

/**
 * The user search (GET /v2/users?query=) compares the query with each user's `search_key`, computed by
 * Vigil (userSearchKey in accounts/user-search.ts: the username and the full name, each folded as names
 * are compared, db/name-key.ts), in PostgreSQL. Before, Vigil folded the names in Node, after an ILIKE
 * that narrowed nothing for most queries (any of a f i k l n s t may come of a letter beyond ASCII):
 * such a request read every user of the organization.
 *
 * Every user is keyed here, in batches. The key is null for users a process from before 0083 writes
 * (the search compares those by ASCII case, as before 0082, until Vigil next changes them), and a
 * trigger clears it whenever the username or full name changes: a rename by such a process, or by hand
 * in SQL, never leaves the old name's key to be found by. Vigil keys a user again after each change.
 */

/** nameKey (db/name-key.ts) as this migration keys names: a copy, so that changing that one needs a migration. */
function nameKey(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** userSearchKey as this migration keys users. */
function searchKey(username: string, fullName: string): string {
  return `${nameKey(username)}\n${nameKey(fullName)}`;
}

const BATCH = 1000;

interface Row {
  id: string;
  username: string;
  full_name: string;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  // The ALTER holds the table until the migration commits: no user is written meanwhile unkeyed.
  await sql`
    ALTER TABLE users ADD COLUMN search_key text;
    CREATE FUNCTION vigil_users_search_key_clear() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_key := NULL;
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER users_search_key_clear BEFORE UPDATE OF username, full_name ON users
      FOR EACH ROW WHEN (OLD.username IS DISTINCT FROM NEW.username OR OLD.full_name IS DISTINCT FROM NEW.full_name)
      EXECUTE FUNCTION vigil_users_search_key_clear();
  `.execute(db);
  let after: string | undefined;
  for (;;) {
    const { rows } = await sql<Row>`
      SELECT id, username, full_name FROM users
      WHERE ${after === undefined ? sql`true` : sql`id > ${after}::uuid`}
      ORDER BY id LIMIT ${BATCH}`.execute(db);
    if (rows.length === 0) break;
    await sql`
      UPDATE users u SET search_key = k.key
      FROM unnest(${rows.map((r) => r.id)}::uuid[],
        ${rows.map((r) => searchKey(r.username, r.full_name))}::text[]) AS k(id, key)
      WHERE u.id = k.id`.execute(db);
    after = rows[rows.length - 1]!.id;
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER users_search_key_clear ON users;
    DROP FUNCTION vigil_users_search_key_clear();
    ALTER TABLE users DROP COLUMN search_key;
  `.execute(db);
}
