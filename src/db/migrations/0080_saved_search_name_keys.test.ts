import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * Saved searches from before 0080 are keyed by their names as Vigil now compares them. Names that the old
 * index (lower(), ASCII only under the C locale) let in beside each other although they differ only in
 * case are all kept: the oldest keeps its name, later ones take the first free " (n)".
 */

const THIS = '0080_saved_search_name_keys';
let db: Db;
let migrator: Migrator;
let previous: string;
let orgId = '';
let otherOrgId = '';

async function org(name: string): Promise<string> {
  return (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES (${name}) RETURNING id`.execute(db)
  ).rows[0]!.id;
}

async function search(orgId: string, name: string, minutesAgo: number): Promise<void> {
  await sql`
    INSERT INTO saved_searches (org_id, name, query, created_at)
    VALUES (${orgId}, ${name}, 'tag:a', now() - ${minutesAgo} * interval '1 minute')`.execute(db);
}

async function searches(of: string): Promise<{ name: string; name_key: string }[]> {
  const { rows } = await sql<{ name: string; name_key: string }>`
    SELECT name, name_key FROM saved_searches WHERE org_id = ${of} ORDER BY created_at`.execute(db);
  return rows;
}

const long = 'É'.repeat(199);

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  orgId = await org('Org');
  otherOrgId = await org('Other');
  await search(orgId, 'équipe réseau', 60);
  await search(orgId, 'Équipe réseau', 50);
  await search(orgId, 'ÉQUIPE RÉSEAU', 40);
  // The name the second would take is someone's already.
  await search(orgId, 'Équipe Réseau (2)', 30);
  await search(orgId, long, 20);
  await search(orgId, long.toLowerCase(), 10);
  await search(orgId, 'Plain', 5);
  await search(otherOrgId, 'Équipe réseau', 5);
});

after(async () => {
  await db?.destroy();
});

it('keys every search, renaming the later of names that differ only in case', async () => {
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  assert.deepEqual(await searches(orgId), [
    { name: 'équipe réseau', name_key: 'équipe réseau' },
    { name: 'Équipe réseau (3)', name_key: 'équipe réseau (3)' },
    { name: 'ÉQUIPE RÉSEAU (4)', name_key: 'équipe réseau (4)' },
    { name: 'Équipe Réseau (2)', name_key: 'équipe réseau (2)' },
    { name: long, name_key: long.toLowerCase() },
    { name: `${'é'.repeat(196)} (2)`, name_key: `${'é'.repeat(196)} (2)` },
    { name: 'Plain', name_key: 'plain' },
  ]);
  assert.deepEqual(await searches(otherOrgId), [{ name: 'Équipe réseau', name_key: 'équipe réseau' }]);
});

it('keeps keys unique in each organization', async () => {
  await assert.rejects(
    sql`INSERT INTO saved_searches (org_id, name, name_key, query)
        VALUES (${orgId}, 'PLAIN', 'plain', 'tag:a')`.execute(db),
    /saved_searches_org_name_key/,
  );
});

it('goes down and up again', async () => {
  assert.equal((await migrator.migrateTo(previous)).error, undefined);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  assert.equal((await searches(orgId)).length, 7);
});
