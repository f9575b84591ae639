import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * Migration 0062 adds only the announcement of paged alerts: the alerts' own triggers stay as 0011 and
 * 0041 left them, capturing no OLD TABLE (PostgreSQL would fill it on every alert update, console open
 * or not), and going back drops only what it made.
 */

const THIS = '0062_announce_alert_sight';
let db: Db;
let migrator: Migrator;

/** Every trigger a user made on these tables, as PostgreSQL would create it again. */
const triggers = async () =>
  (
    await sql<{ definition: string }>`
      SELECT pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t
      WHERE t.tgrelid IN ('alerts'::regclass, 'notifications'::regclass) AND NOT t.tgisinternal
      ORDER BY 1`.execute(db)
  ).rows.map((row) => row.definition);

const announcers = async () =>
  (
    await sql<{ name: string }>`
      SELECT proname AS name FROM pg_proc WHERE proname LIKE 'vigil_announce%' ORDER BY 1`.execute(db)
  ).rows.map((row) => row.name);

before(async () => {
  ({ db, migrator } = await databaseBefore(THIS));
});

after(async () => {
  await db?.destroy();
});

it('announces paged alerts, leaves the alerts triggers alone, and takes back only its own', async () => {
  const beforeTriggers = await triggers();
  const beforeFunctions = await announcers();
  assert.ok(
    beforeTriggers.some((t) => t.includes('alerts_announce_update')),
    beforeTriggers.join('\n'),
  );

  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  const added = (await triggers()).filter((t) => !beforeTriggers.includes(t));
  assert.equal(added.length, 1, added.join('\n'));
  assert.match(added[0]!, /notifications_announce_insert AFTER INSERT ON public\.notifications/);
  for (const t of beforeTriggers) assert.ok((await triggers()).includes(t), `changed: ${t}`);
  const onUpdate = (await triggers()).filter((t) => t.includes('AFTER UPDATE'));
  assert.equal(onUpdate.length, 1, onUpdate.join('\n'));
  assert.doesNotMatch(onUpdate[0]!, /OLD TABLE/);
  assert.deepEqual(
    (await announcers()).filter((f) => !beforeFunctions.includes(f)),
    ['vigil_announce_paged_alerts'],
  );

  assert.equal((await migrator.migrateDown()).error, undefined);
  assert.deepEqual(await triggers(), beforeTriggers);
  assert.deepEqual(await announcers(), beforeFunctions);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
});
