import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * The texts and calls sent within the last hour count from the start; while processes of both versions
 * run, each counts the other's sends and marks; undone, the throttle counts the messages again.
 */

const THIS = '0084_throttle_sends';
const PHONE = '+14155550191';
let db: Db;
let migrator: Migrator;
let previous: string;
let orgId = '';
let alertId = '';
let userId = '';

/** A message to PHONE (or by email), in `state`, sent (or let through, when sending) `minutesAgo`. */
async function message(method: string, state: string, minutesAgo: number): Promise<string> {
  const at = sql`now() - make_interval(mins => ${minutesAgo})`;
  const row = await sql<{ id: string }>`
    INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, method, address, kind, due_at,
      state, sent_at, let_through_at)
    VALUES (${randomUUID()}, ${orgId}, ${alertId}, ${userId}, ${method}, ${PHONE}, 'create-alert', now(),
      ${state}, ${state === 'sent' ? at : null}, ${state === 'sending' ? at : null})
    RETURNING id`.execute(db);
  return row.rows[0]!.id;
}

/** What the throttle counts for PHONE's texts in the last `minutes`, but not `except`'s mark. */
async function counted(minutes: number, except: string[] = []): Promise<number> {
  const rows = await sql`
    SELECT * FROM vigil_throttle_sends(ARRAY['sms'], ARRAY[${PHONE}]::text[],
      now() - make_interval(mins => ${minutes}), ${except}::uuid[])`.execute(db);
  return rows.rows.length;
}

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  orgId = (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(db)
  ).rows[0]!.id;
  userId = (
    await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role) VALUES (${orgId}, 'pat@example.com', 'Pat', 'user')
      RETURNING id`.execute(db)
  ).rows[0]!.id;
  alertId = (
    await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, 'a', 'Disk full') RETURNING id`.execute(
      db,
    )
  ).rows[0]!.id;
});

after(async () => {
  await db?.destroy();
});

it('keeps the sends of the last hour, counts both versions’ marks, and goes back', async () => {
  const recent = await message('sms', 'sent', 5);
  await message('sms', 'sent', 120);
  await message('email', 'sent', 5);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  const kept = await sql<{ notification_id: string; sent: boolean }>`
    SELECT notification_id, sent FROM throttle_sends`.execute(db);
  assert.deepEqual(kept.rows, [{ notification_id: recent, sent: true }]);

  // The recent text counts after its alert is deleted; the old one is out of every window.
  await sql`DELETE FROM alerts WHERE id = ${alertId}`.execute(db);
  alertId = (
    await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, 'b', 'CPU high') RETURNING id`.execute(db)
  ).rows[0]!.id;
  assert.equal(await counted(15), 1);

  // An older process marks on the message (0042's function): a newer one's count has it.
  const olderMark = await message('sms', 'sending', 1);
  assert.equal(await counted(15), 2);
  assert.equal(await counted(15, [olderMark]), 1, 'but not for the round that made it');
  // A newer process marks in throttle_sends: an older one's check (0042's function) has it.
  const newer = await message('sms', 'sending', 0);
  await sql`UPDATE notifications SET let_through_at = NULL WHERE id = ${newer}`.execute(db);
  await sql`
    SELECT * FROM vigil_throttle_let_through_apart(ARRAY['vigil:throttle:sms ${sql.raw(PHONE)}'],
      ARRAY['sms'], ARRAY[${PHONE}]::text[], now() - interval '15 minutes', ARRAY[${newer}]::uuid[],
      ARRAY[${newer}]::uuid[], now())`.execute(db);
  const seenByOlder = await sql`
    SELECT * FROM vigil_throttle_let_through(ARRAY['vigil:throttle:sms ${sql.raw(PHONE)}'],
      ARRAY['sms'], ARRAY[${PHONE}]::text[], now() - interval '15 minutes', ARRAY[${olderMark}]::uuid[],
      ARRAY[${olderMark}]::uuid[], now())`.execute(db);
  assert.equal(seenByOlder.rows.length, 2, 'the recent text and the newer mark');

  assert.equal((await migrator.migrateTo(previous)).error, undefined);
  const table = await sql<{ t: string | null }>`SELECT to_regclass('throttle_sends')::text AS t`.execute(db);
  assert.equal(table.rows[0]?.t, null);
  // As before 0084: the messages' sends and marks (the recent text's went with its alert).
  assert.equal(await counted(15), 1);
});
