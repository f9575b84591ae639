import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql, type Migrator, type RawBuilder } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * Custom user roles and team roles from before 0082 are keyed by their names as Vigil now compares them.
 * Names that the old indexes (lower(), ASCII only under the C locale) let in beside each other although
 * they differ only in case are all kept, with their holders: the oldest keeps its name, later ones take
 * the first free " (n)".
 */

const THIS = '0082_role_name_keys';
let db: Db;
let migrator: Migrator;
let previous: string;
let orgId = '';
let otherOrgId = '';
let teamId = '';
let otherTeamId = '';
let holderId = '';

async function one(query: RawBuilder<{ id: string }>): Promise<string> {
  return (await query.execute(db)).rows[0]!.id;
}

async function customRole(org: string, name: string, minutesAgo: number): Promise<string> {
  return one(sql<{ id: string }>`
    INSERT INTO custom_user_roles (org_id, name, created_at)
    VALUES (${org}, ${name}, now() - ${minutesAgo} * interval '1 minute') RETURNING id`);
}

async function teamRole(team: string, name: string, minutesAgo: number): Promise<string> {
  return one(sql<{ id: string }>`
    INSERT INTO team_roles (team_id, name, created_at)
    VALUES (${team}, ${name}, now() - ${minutesAgo} * interval '1 minute') RETURNING id`);
}

async function customRoles(of: string): Promise<{ name: string; name_key: string }[]> {
  const { rows } = await sql<{ name: string; name_key: string }>`
    SELECT name, name_key FROM custom_user_roles WHERE org_id = ${of} ORDER BY created_at`.execute(db);
  return rows;
}

async function teamRoles(of: string): Promise<{ name: string; name_key: string }[]> {
  const { rows } = await sql<{ name: string; name_key: string }>`
    SELECT name, name_key FROM team_roles WHERE team_id = ${of} ORDER BY created_at`.execute(db);
  return rows;
}

const long = 'É'.repeat(99);
let heldLaterId = '';

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  orgId = await one(sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`);
  otherOrgId = await one(sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Other') RETURNING id`);
  teamId = await one(
    sql<{ id: string }>`INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Ops') RETURNING id`,
  );
  otherTeamId = await one(
    sql<{ id: string }>`INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Dev') RETURNING id`,
  );

  await customRole(orgId, 'équipe nuit', 60);
  heldLaterId = await customRole(orgId, 'Équipe nuit', 50);
  // Decomposed: É as E and a combining acute accent.
  await customRole(orgId, 'E\u0301quipe nuit', 40);
  // The name the second would take is another role's already.
  await customRole(orgId, 'Équipe Nuit (2)', 30);
  await customRole(orgId, long, 20);
  await customRole(orgId, long.toLowerCase(), 10);
  await customRole(orgId, 'Straße', 8);
  await customRole(orgId, 'STRASSE', 7);
  await customRole(orgId, 'Plain', 5);
  await customRole(otherOrgId, 'Équipe nuit', 5);
  holderId = await one(sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role, custom_role_id)
    VALUES (${orgId}, 'holder@example.com', 'Holder', 'user', ${heldLaterId}) RETURNING id`);

  await teamRole(teamId, 'Équipe nuit', 30);
  await teamRole(teamId, 'équipe nuit', 20);
  await teamRole(teamId, 'Responder', 10);
  await teamRole(otherTeamId, 'ÉQUIPE NUIT', 10);
});

after(async () => {
  await db?.destroy();
});

it('keys every role, renaming the later of names that differ only in case, holders kept', async () => {
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  assert.deepEqual(await customRoles(orgId), [
    { name: 'équipe nuit', name_key: 'équipe nuit' },
    { name: 'Équipe nuit (3)', name_key: 'équipe nuit (3)' },
    { name: 'E\u0301quipe nuit (4)', name_key: 'équipe nuit (4)' },
    { name: 'Équipe Nuit (2)', name_key: 'équipe nuit (2)' },
    { name: long, name_key: long.toLowerCase() },
    { name: `${'é'.repeat(96)} (2)`, name_key: `${'é'.repeat(96)} (2)` },
    { name: 'Straße', name_key: 'strasse' },
    { name: 'STRASSE (2)', name_key: 'strasse (2)' },
    { name: 'Plain', name_key: 'plain' },
  ]);
  assert.deepEqual(await customRoles(otherOrgId), [{ name: 'Équipe nuit', name_key: 'équipe nuit' }]);
  const { rows } = await sql<{ name: string }>`
    SELECT r.name FROM users u JOIN custom_user_roles r ON r.id = u.custom_role_id
    WHERE u.id = ${holderId}`.execute(db);
  assert.deepEqual(rows, [{ name: 'Équipe nuit (3)' }]);

  assert.deepEqual(await teamRoles(teamId), [
    { name: 'Équipe nuit', name_key: 'équipe nuit' },
    { name: 'équipe nuit (2)', name_key: 'équipe nuit (2)' },
    { name: 'Responder', name_key: 'responder' },
  ]);
  assert.deepEqual(await teamRoles(otherTeamId), [{ name: 'ÉQUIPE NUIT', name_key: 'équipe nuit' }]);
});

it('keeps keys unique in each organization and team', async () => {
  await assert.rejects(
    sql`INSERT INTO custom_user_roles (org_id, name, name_key) VALUES (${orgId}, 'PLAIN', 'plain')`.execute(
      db,
    ),
    /custom_user_roles_org_name_key/,
  );
  await assert.rejects(
    sql`INSERT INTO team_roles (team_id, name, name_key) VALUES (${teamId}, 'RESPONDER', 'responder')`.execute(
      db,
    ),
    /team_roles_team_name_key/,
  );
});

it('goes down and up again', async () => {
  assert.equal((await migrator.migrateTo(previous)).error, undefined);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  assert.equal((await customRoles(orgId)).length, 9);
  assert.equal((await teamRoles(teamId)).length, 3);
});
