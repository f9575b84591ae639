import { sql, type Kysely } from 'kysely';

/**
 * Saved search names are compared by `name_key`, computed by Vigil (nameKey in db/name-key.ts), no
 * longer by PostgreSQL's lower(name): under the C locale Vigil's own database runs with, lower() folds
 * only ASCII, so "Équipe" and "équipe" were two names while a lookup by name (folded by JavaScript) found
 * neither or the other one.
 *
 * Every search is keyed here. Searches whose keys collide (names saved before that differ only beyond
 * ASCII case) are all kept: the oldest keeps its name, each later one is renamed to its name followed by
 * " (2)", " (3)"... (the first number whose name is free, the name cut short to keep to the API's 200
 * characters), so that the upgrade never fails on them. A renamed search still runs by id.
 */

/** db/name-key.ts's nameKey as this migration keys names: a copy, so that changing that one needs a migration. */
function nameKey(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

const MAX_NAME = 200;

/** `name` followed by ` (n)`, cut short (by characters, as the API counts them) to keep to MAX_NAME. */
function numbered(name: string, n: number): string {
  const suffix = ` (${n})`;
  const chars = Array.from(name);
  const room = MAX_NAME - suffix.length;
  return (chars.length > room ? chars.slice(0, room).join('') : name) + suffix;
}

interface Row {
  id: string;
  name: string;
}

/** Keys for one organization's searches, oldest first, renaming those whose keys are taken. */
function keyNames(rows: Row[]): { id: string; name: string; key: string }[] {
  const taken = new Set<string>();
  const keyed: { id: string; name: string; key: string }[] = [];
  // Every name that can keeps its own (the first to have its key): renamed ones come after, taking keys
  // none of them has.
  const clashing: Row[] = [];
  for (const row of rows) {
    const key = nameKey(row.name);
    if (taken.has(key)) {
      clashing.push(row);
      continue;
    }
    taken.add(key);
    keyed.push({ id: row.id, name: row.name, key });
  }
  for (const row of clashing) {
    for (let n = 2; ; n++) {
      const name = numbered(row.name, n);
      const key = nameKey(name);
      if (taken.has(key)) continue;
      taken.add(key);
      keyed.push({ id: row.id, name, key });
      break;
    }
  }
  return keyed;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  // The ALTER holds the table until the migration commits: no search is saved meanwhile unkeyed.
  await sql`ALTER TABLE saved_searches ADD COLUMN name_key text`.execute(db);
  const orgs = await sql<{ org_id: string }>`SELECT DISTINCT org_id FROM saved_searches`.execute(db);
  for (const { org_id } of orgs.rows) {
    const rows = await sql<Row>`
      SELECT id, name FROM saved_searches WHERE org_id = ${org_id} ORDER BY created_at, id`.execute(db);
    const keyed = keyNames(rows.rows);
    await sql`
      UPDATE saved_searches s SET name_key = k.key, name = k.name
      FROM unnest(${keyed.map((k) => k.id)}::uuid[], ${keyed.map((k) => k.name)}::text[],
        ${keyed.map((k) => k.key)}::text[]) AS k(id, name, key)
      WHERE s.id = k.id`.execute(db);
  }
  await sql`
    ALTER TABLE saved_searches ALTER COLUMN name_key SET NOT NULL;
    DROP INDEX saved_searches_org_name;
    CREATE UNIQUE INDEX saved_searches_org_name_key ON saved_searches (org_id, name_key);
  `.execute(db);
}

/** Renamed searches keep their new names: the old index takes them (they differ from the others). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX saved_searches_org_name_key;
    ALTER TABLE saved_searches DROP COLUMN name_key;
    CREATE UNIQUE INDEX saved_searches_org_name ON saved_searches (org_id, lower(name));
  `.execute(db);
}
