import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';
import { userSearchKey } from '../../accounts/user-search.js';

/**
 * Users from before 0083 are keyed for the user search, in batches (more users than one batch here), by
 * their names as Vigil folds them; and a change of either name clears the key, so that one made by a
 * process that does not key users (one from before 0083, or by hand) is never found by the old name.
 */

const THIS = '0083_user_search_keys';
const MANY = 2_345;
let db: Db;
let migrator: Migrator;
let previous: string;
let orgId = '';
let userId = '';

interface Keyed {
  username: string;
  full_name: string;
  search_key: string | null;
}

async function keyed(): Promise<Keyed[]> {
  const { rows } = await sql<Keyed>`
    SELECT username, full_name, search_key FROM users WHERE org_id = ${orgId}`.execute(db);
  return rows;
}

async function keyOf(id: string): Promise<string | null> {
  const { rows } = await sql<Keyed>`SELECT search_key FROM users WHERE id = ${id}`.execute(db);
  return rows[0]!.search_key;
}

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  orgId = org.rows[0]!.id;
  const user = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role)
    VALUES (${orgId}, 'jurgen@example.com', 'Jürgen STRAßE', 'user') RETURNING id`.execute(db);
  userId = user.rows[0]!.id;
  await sql`
    INSERT INTO users (org_id, username, full_name, role)
    SELECT ${orgId}, 'user-' || n || '@example.com', 'E' || chr(769) || 'mile ' || n, 'user'
    FROM generate_series(1, ${MANY}) n`.execute(db);
});

after(async () => {
  await db?.destroy();
});

it('keys every user by the username and full name as the search folds them', async () => {
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  const rows = await keyed();
  assert.equal(rows.length, MANY + 1);
  for (const row of rows)
    assert.equal(row.search_key, userSearchKey(row.username, row.full_name), row.username);
  assert.equal(await keyOf(userId), 'jurgen@example.com\njürgen strasse');
});

it('clears the key when either name changes, and only then', async () => {
  await sql`UPDATE users SET role = 'admin', full_name = full_name WHERE id = ${userId}`.execute(db);
  assert.equal(await keyOf(userId), 'jurgen@example.com\njürgen strasse');
  await sql`UPDATE users SET full_name = 'Zoë' WHERE id = ${userId}`.execute(db);
  assert.equal(await keyOf(userId), null);
  await sql`UPDATE users SET search_key = 'jurgen@example.com\nzoë' WHERE id = ${userId}`.execute(db);
  assert.equal(await keyOf(userId), 'jurgen@example.com\nzoë');
  await sql`UPDATE users SET username = 'zoe@example.com' WHERE id = ${userId}`.execute(db);
  assert.equal(await keyOf(userId), null);
});

it('goes down and up again', async () => {
  assert.equal((await migrator.migrateTo(previous)).error, undefined);
  await sql`UPDATE users SET full_name = 'Back' WHERE id = ${userId}`.execute(db);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  assert.equal(await keyOf(userId), 'zoe@example.com\nback');
  assert.equal((await keyed()).filter((r) => r.search_key === null).length, 0);
});
