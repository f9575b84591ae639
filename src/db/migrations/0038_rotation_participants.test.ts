import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { MIGRATION_NAMES } from '../migrate.js';
import { createTestDatabase } from '../../testing/harness.js';

/**
 * Upgrading a database whose rotations list user ids: each becomes a `user` participant in the same
 * order (a rotation without participants stays empty), and going down keeps the users only.
 */

let db: Db;
let migrator: Migrator;
const ids: Record<string, string> = {};
let scheduleId: string;

async function participantsOf(name: string): Promise<unknown> {
  const row = await sql<{ participants: unknown }>`
    SELECT participants FROM schedule_rotations WHERE name = ${name}`.execute(db);
  return row.rows[0]?.participants;
}

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES) migrations[name] = (await import(`./${name}.js`)) as Migration;
  migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const before0038 = MIGRATION_NAMES[MIGRATION_NAMES.indexOf('0038_rotation_participants') - 1];
  assert.ok(before0038);
  assert.equal((await migrator.migrateTo(before0038)).error, undefined);

  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  const orgId = org.rows[0]!.id;
  for (const name of ['zoe', 'amy']) {
    const row = await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role) VALUES (${orgId}, ${`${name}@example.com`}, ${name}, 'user')
      RETURNING id`.execute(db);
    ids[name] = row.rows[0]!.id;
  }
  const schedule = await sql<{ id: string }>`
    INSERT INTO schedules (org_id, name, timezone) VALUES (${orgId}, 'Rota', 'UTC') RETURNING id`.execute(db);
  scheduleId = schedule.rows[0]!.id;
  // Zoe before amy (not in id or name order), and zoe twice: turns keep their order and repeats.
  const order = sql.raw(`ARRAY['${ids.zoe}', '${ids.amy}', '${ids.zoe}']::uuid[]`);
  await sql`
    INSERT INTO schedule_rotations (schedule_id, name, position, type, length, participants, start_date)
    VALUES (${scheduleId}, 'Turns', 0, 'weekly', 1, ${order}, now()),
           (${scheduleId}, 'Empty', 1, 'weekly', 1, '{}', now())`.execute(db);

  assert.equal((await migrator.migrateTo('0038_rotation_participants')).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0038: rotation participants of every type', () => {
  it('makes each user id a user participant, in turn order', async () => {
    assert.deepEqual(await participantsOf('Turns'), [
      { type: 'user', id: ids.zoe },
      { type: 'user', id: ids.amy },
      { type: 'user', id: ids.zoe },
    ]);
    assert.deepEqual(await participantsOf('Empty'), []);
  });

  it('going down keeps the users, in order, and drops the other types', async () => {
    const mixed = JSON.stringify([
      { type: 'none' },
      { type: 'user', id: ids.amy },
      { type: 'team', id: scheduleId },
      { type: 'user', id: ids.zoe },
    ]);
    await sql`UPDATE schedule_rotations SET participants = ${mixed}::jsonb WHERE name = 'Turns'`.execute(db);
    const target = MIGRATION_NAMES[MIGRATION_NAMES.indexOf('0038_rotation_participants') - 1]!;
    // Later migrations (if any) are undone too: they are not about rotations.
    assert.equal((await migrator.migrateTo(target)).error, undefined);
    assert.deepEqual(await participantsOf('Turns'), [ids.amy, ids.zoe]);
    assert.deepEqual(await participantsOf('Empty'), []);
  });
});
