import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { MIGRATION_NAMES } from '../migrate.js';
import { createTestDatabase } from '../../testing/harness.js';

/**
 * Upgrading a database with schedules: those made before keep Vigil's layering (nobody's paging changes
 * on upgrade); schedules made afterwards combine their rotations as Opsgenie does ("all").
 */

let db: Db;
let migrator: Migrator;
let orgId: string;

async function combineOf(name: string): Promise<unknown> {
  const row = await sql<{ rotations_combine: unknown }>`
    SELECT rotations_combine FROM schedules WHERE name = ${name}`.execute(db);
  return row.rows[0]?.rotations_combine;
}

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES) migrations[name] = (await import(`./${name}.js`)) as Migration;
  migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const before0039 = MIGRATION_NAMES[MIGRATION_NAMES.indexOf('0039_rotations_combine') - 1];
  assert.ok(before0039);
  assert.equal((await migrator.migrateTo(before0039)).error, undefined);
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  orgId = org.rows[0]!.id;
  await sql`INSERT INTO schedules (org_id, name, timezone) VALUES (${orgId}, 'Old', 'UTC')`.execute(db);
  assert.equal((await migrator.migrateTo('0039_rotations_combine')).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0039: how a schedule combines its rotations', () => {
  it('keeps existing schedules layered, and makes new ones "all"', async () => {
    assert.equal(await combineOf('Old'), 'layers');
    await sql`INSERT INTO schedules (org_id, name, timezone) VALUES (${orgId}, 'New', 'UTC')`.execute(db);
    assert.equal(await combineOf('New'), 'all');
  });

  it('refuses any other value', async () => {
    await assert.rejects(
      sql`UPDATE schedules SET rotations_combine = 'stacked' WHERE name = 'Old'`.execute(db),
      /schedules_rotations_combine/,
    );
    assert.equal(await combineOf('Old'), 'layers');
  });
});
