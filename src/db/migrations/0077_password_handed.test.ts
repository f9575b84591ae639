import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * Passwords set before 0077 through a link handed to an admin (still kept: links go a day after their
 * use) take the link's holders, so that a promotion to owner drops them as it drops later ones; a
 * password whose last link was emailed, or that no kept link set, stays unmarked.
 */

const THIS = '0077_password_handed';
let db: Db;
let migrator: Migrator;
const users: Record<'handed' | 'emailedSince' | 'emailed' | 'noLink', string> = {
  handed: '',
  emailedSince: '',
  emailed: '',
  noLink: '',
};
let admin = '';

async function user(orgId: string, name: string): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role) VALUES (${orgId}, ${`${name}@example.com`}, ${name}, 'user')
    RETURNING id`.execute(db);
  await sql`INSERT INTO user_passwords (user_id, hash, updated_at) VALUES (${rows[0]!.id}, 'h', now())`.execute(
    db,
  );
  return rows[0]!.id;
}

async function link(userId: string, usedMinutesAgo: number, givenTo: string[] | null): Promise<void> {
  await sql`
    INSERT INTO account_tokens (token_hash, user_id, purpose, created_at, expires_at, used_at, given_to)
    VALUES (${randomBytes(32)}, ${userId}, 'invitation', now() - interval '1 hour', now() + interval '1 day',
      now() - ${usedMinutesAgo} * interval '1 minute', ${givenTo}::uuid[])`.execute(db);
}

before(async () => {
  ({ db, migrator } = await databaseBefore(THIS));
  const orgId = (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(db)
  ).rows[0]!.id;
  admin = await user(orgId, 'admin');
  for (const name of Object.keys(users) as (keyof typeof users)[]) users[name] = await user(orgId, name);
  await link(users.handed, 10, [admin]);
  // Handed once, then a password set again through an emailed link: the admin no longer knows it.
  await link(users.emailedSince, 30, [admin]);
  await link(users.emailedSince, 5, null);
  await link(users.emailed, 10, null);
});

after(async () => {
  await db?.destroy();
});

it("marks the passwords a kept handed link set last with that link's holders", async () => {
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  const { rows } = await sql<{ user_id: string; given_to: string[] | null }>`
    SELECT user_id, given_to FROM user_passwords`.execute(db);
  const givenTo = new Map(rows.map((r) => [r.user_id, r.given_to]));
  assert.deepEqual(givenTo.get(users.handed), [admin]);
  assert.equal(givenTo.get(users.emailedSince), null);
  assert.equal(givenTo.get(users.emailed), null);
  assert.equal(givenTo.get(users.noLink), null);
});
