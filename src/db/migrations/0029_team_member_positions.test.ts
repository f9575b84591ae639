import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { MIGRATION_NAMES } from '../migrate.js';
import { createTestDatabase } from '../../testing/harness.js';

/**
 * Upgrading a database whose teams have members: each team's members get positions in the order they were
 * listed before (by username), so no client sees a team's list change when 0029 runs.
 */

let db: Db;

async function addUser(orgId: string, username: string): Promise<string> {
  const row = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role) VALUES (${orgId}, ${username}, ${username}, 'user')
    RETURNING id`.execute(db);
  return row.rows[0]!.id;
}

async function addTeam(orgId: string, name: string, members: string[]): Promise<string> {
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, ${name}) RETURNING id`.execute(db);
  const teamId = team.rows[0]!.id;
  for (const userId of members) {
    await sql`INSERT INTO team_members (team_id, user_id, role) VALUES (${teamId}, ${userId}, 'user')`.execute(
      db,
    );
  }
  return teamId;
}

let blue: string;
let green: string;
const ids: Record<string, string> = {};

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES) migrations[name] = (await import(`./${name}.js`)) as Migration;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  assert.equal((await migrator.migrateTo('0028_email_messages')).error, undefined);

  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  const orgId = org.rows[0]!.id;
  for (const name of ['zoe', 'amy', 'max', 'bob']) ids[name] = await addUser(orgId, `${name}@example.com`);
  // Added out of username order, so the positions can only come from the usernames.
  blue = await addTeam(orgId, 'Blue', [ids.zoe!, ids.max!, ids.amy!]);
  green = await addTeam(orgId, 'Green', [ids.max!, ids.bob!]);
  await addTeam(orgId, 'Empty', []);

  assert.equal((await migrator.migrateTo('0029_team_member_positions')).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0029: team member positions', () => {
  it("numbers each team's members from 0 in username order", async () => {
    const rows = await sql<{ team_id: string; username: string; position: number }>`
      SELECT m.team_id, u.username, m.position
        FROM team_members m JOIN users u ON u.id = m.user_id
       ORDER BY m.team_id, m.position`.execute(db);
    const of = (teamId: string) =>
      rows.rows.filter((r) => r.team_id === teamId).map((r) => [r.username.split('@')[0], r.position]);
    assert.deepEqual(of(blue), [
      ['amy', 0],
      ['max', 1],
      ['zoe', 2],
    ]);
    assert.deepEqual(of(green), [
      ['bob', 0],
      ['max', 1],
    ]);
  });

  it('makes a position required of every member added after', async () => {
    await assert.rejects(
      sql`INSERT INTO team_members (team_id, user_id, role) VALUES (${green}, ${ids.zoe}, 'user')`.execute(
        db,
      ),
      /null value in column "position"/,
    );
  });
});
