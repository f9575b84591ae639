import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/** A reply code keeps its phone and number when its person is deleted, and goes with them once undone. */

const THIS = '0081_reply_codes_outlive_users';
let db: Db;
let migrator: Migrator;
let previous: string;
let orgId = '';

async function codeOfNewUser(name: string, code: number): Promise<string> {
  const user = (
    await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role) VALUES (${orgId}, ${`${name}@example.com`}, ${name}, 'user')
      RETURNING id`.execute(db)
  ).rows[0]!.id;
  await sql`
    INSERT INTO sms_reply_codes (org_id, phone, code, user_id, alert_ids, created_at)
    VALUES (${orgId}, '+14155550190', ${code}, ${user}, ${[randomUUID()]}::uuid[], now())`.execute(db);
  return user;
}

const codes = async () =>
  (
    await sql<{ code: number; user_id: string | null }>`
      SELECT code, user_id FROM sms_reply_codes ORDER BY code`.execute(db)
  ).rows;

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  orgId = (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(db)
  ).rows[0]!.id;
});

after(async () => {
  await db?.destroy();
});

it("keeps a deleted person's reply code taken, without them, and drops it when undone", async () => {
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  const pat = await codeOfNewUser('pat', 1);
  const sam = await codeOfNewUser('sam', 2);
  await sql`DELETE FROM users WHERE id = ${pat}`.execute(db);
  assert.deepEqual(await codes(), [
    { code: 1, user_id: null },
    { code: 2, user_id: sam },
  ]);

  assert.equal((await migrator.migrateTo(previous)).error, undefined);
  assert.deepEqual(await codes(), [{ code: 2, user_id: sam }]);
  await sql`DELETE FROM users WHERE id = ${sam}`.execute(db);
  assert.deepEqual(await codes(), [], 'deleted with its person again');
});
