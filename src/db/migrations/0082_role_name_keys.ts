import { sql, type Kysely } from 'kysely';

/**
 * Custom user role names (unique in the organization) and team role names (unique in the team) are
 * compared by `name_key`, computed by Vigil (nameKey in db/name-key.ts, as saved
 * search names since 0080), no longer by PostgreSQL's lower(name): under the C locale Vigil's
 * own database runs with, lower() folds only ASCII, so "Équipe nuit" and "équipe nuit" were two roles
 * while a lookup by name (folded by JavaScript) found neither or the other one, and a user or member
 * given a role by name could be given the other.
 *
 * Every role is keyed here. Roles whose keys collide (names saved before that differ only beyond ASCII
 * case) are all kept, with their holders: the oldest keeps its name, each later one is renamed to its
 * name followed by " (2)", " (3)"... (the first number whose name is free, the name cut short to keep to
 * the API's 100 characters), so that the upgrade never fails on them. A renamed role is still found by id
 * and by its new name.
 */

/** db/name-key.ts's nameKey as this migration keys names: a copy, so that changing that one needs a migration. */
function nameKey(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

const MAX_NAME = 100;

/** `name` followed by ` (n)`, cut short (by characters, as the API counts them) to keep to MAX_NAME. */
function numbered(name: string, n: number): string {
  const suffix = ` (${n})`;
  const chars = Array.from(name);
  const room = MAX_NAME - suffix.length;
  return (chars.length > room ? chars.slice(0, room).join('') : name) + suffix;
}

interface Row {
  id: string;
  scope: string;
  name: string;
}

interface Keyed {
  id: string;
  name: string;
  key: string;
}

/** Keys for roles, oldest first in each scope, renaming those whose keys are taken in their scope. */
function keyNames(rows: Row[]): Keyed[] {
  const taken = new Map<string, Set<string>>();
  const keyed: Keyed[] = [];
  // Every name that can keeps its own (the first to have its key): renamed ones come after, taking keys
  // none of them has.
  const clashing: Row[] = [];
  for (const row of rows) {
    const key = nameKey(row.name);
    let keys = taken.get(row.scope);
    if (!keys) taken.set(row.scope, (keys = new Set()));
    if (keys.has(key)) {
      clashing.push(row);
      continue;
    }
    keys.add(key);
    keyed.push({ id: row.id, name: row.name, key });
  }
  for (const row of clashing) {
    const keys = taken.get(row.scope)!;
    for (let n = 2; ; n++) {
      const name = numbered(row.name, n);
      const key = nameKey(name);
      if (keys.has(key)) continue;
      keys.add(key);
      keyed.push({ id: row.id, name, key });
      break;
    }
  }
  return keyed;
}

async function keyTable(
  db: Kysely<unknown>,
  table: 'custom_user_roles' | 'team_roles',
  scope: 'org_id' | 'team_id',
): Promise<void> {
  // The ALTER holds the table until the migration commits: no role is saved meanwhile unkeyed.
  await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN name_key text`.execute(db);
  const rows = await sql<Row>`
    SELECT id, ${sql.ref(scope)} AS scope, name FROM ${sql.table(table)}
    ORDER BY ${sql.ref(scope)}, created_at, id`.execute(db);
  const keyed = keyNames(rows.rows);
  await sql`
    UPDATE ${sql.table(table)} r SET name_key = k.key, name = k.name
    FROM unnest(${keyed.map((k) => k.id)}::uuid[], ${keyed.map((k) => k.name)}::text[],
      ${keyed.map((k) => k.key)}::text[]) AS k(id, name, key)
    WHERE r.id = k.id`.execute(db);
  await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN name_key SET NOT NULL`.execute(db);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await keyTable(db, 'custom_user_roles', 'org_id');
  await keyTable(db, 'team_roles', 'team_id');
  await sql`
    DROP INDEX custom_user_roles_org_name;
    CREATE UNIQUE INDEX custom_user_roles_org_name_key ON custom_user_roles (org_id, name_key);
    DROP INDEX team_roles_team_name;
    CREATE UNIQUE INDEX team_roles_team_name_key ON team_roles (team_id, name_key);
  `.execute(db);
}

/** Renamed roles keep their new names: the old indexes take them (they differ from the others). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX custom_user_roles_org_name_key;
    ALTER TABLE custom_user_roles DROP COLUMN name_key;
    CREATE UNIQUE INDEX custom_user_roles_org_name ON custom_user_roles (org_id, lower(name));
    DROP INDEX team_roles_team_name_key;
    ALTER TABLE team_roles DROP COLUMN name_key;
    CREATE UNIQUE INDEX team_roles_team_name ON team_roles (team_id, lower(name));
  `.execute(db);
}
