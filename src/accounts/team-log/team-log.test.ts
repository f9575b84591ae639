import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { addOrganization, startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Opsgenie's List Team Logs on the real server: renaming a team, changing its members (one by one or all
 * at once) and its routing rules each write a line saying what changed and who changed it; a change that
 * is refused writes nothing; the log pages by Opsgenie's offset in either order; another organization
 * finds no such team.
 */

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 6);
const team = `logged-${run}`;
const dana = `dana-${run}@example.com`;
const erin = `erin-${run}@example.com`;
let owner: string;

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  for (const username of [dana, erin]) {
    await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  }
  const { rows } = await db.query<{ username: string }>(
    "SELECT username FROM users WHERE role = 'owner' ORDER BY created_at LIMIT 1",
  );
  owner = rows[0]?.username ?? '';
});

after(async () => {
  await db.end();
  await server.stop();
});

async function logs(name: string, query = 'order=asc&limit=100'): Promise<Json> {
  return (await server.callOk('GET', `/v2/teams/${name}/logs?identifierType=name&${query}`)).data;
}

describe("a team's log", () => {
  it('says what changed in the team, its members and its routing rules, and who changed it', async () => {
    const created = await server.callOk('POST', '/v2/teams', {
      name: team,
      members: [{ user: { username: dana }, role: 'admin' }],
    });
    const id = created.data.id;
    await server.callOk('PATCH', `/v2/teams/${id}`, { name: `${team}-x`, description: 'the db people' });
    const renamed = `${team}-x`;
    await server.callOk('POST', `/v2/teams/${id}/members`, { user: { username: erin } });
    await server.callOk('POST', `/v2/teams/${id}/members`, { user: { username: erin }, role: 'admin' });
    // The same role again changes nothing, and says nothing.
    await server.callOk('POST', `/v2/teams/${id}/members`, { user: { username: erin }, role: 'admin' });
    await server.callOk('DELETE', `/v2/teams/${id}/members/${dana}`);
    await server.callOk('PATCH', `/v2/teams/${id}`, {
      members: [
        { user: { username: dana }, role: 'user' },
        { user: { username: erin }, role: 'user' },
      ],
    });
    const rule = await server.callOk('POST', `/v2/teams/${id}/routing-rules`, {
      name: 'P1 only',
      criteria: { type: 'match-all' },
      notify: { type: 'none' },
    });
    await server.callOk('POST', `/v2/teams/${id}/routing-rules`, {
      name: 'Second',
      criteria: { type: 'match-all' },
      notify: { type: 'none' },
    });
    await server.callOk('PATCH', `/v2/teams/${id}/routing-rules/${rule.data.id}`, { name: 'P1 and P2' });
    await server.callOk('POST', `/v2/teams/${id}/routing-rules/${rule.data.id}/change-order`, { order: 1 });
    await server.callOk('DELETE', `/v2/teams/${id}/routing-rules/${rule.data.id}`);
    // Refused changes leave no line.
    const refused = await server.call('POST', `/v2/teams/${id}/members`, {
      user: { username: `nobody-${run}@example.com` },
    });
    assert.ok(refused.status >= 400 && refused.status < 500, JSON.stringify(refused.body));

    const data = await logs(renamed);
    const by = ` by ${owner}`;
    assert.deepEqual(
      data.logs.map((l: Json) => l.log),
      [
        `Team ${team} created`,
        `${dana} added to the team as admin`,
        `Team renamed from ${team} to ${renamed}`,
        'Team description changed',
        `${erin} added to the team as user`,
        `${erin}'s role in the team changed from user to admin`,
        `${dana} removed from the team`,
        `${dana} added to the team as user`,
        `${erin}'s role in the team changed from admin to user`,
        'Routing rule P1 only added',
        'Routing rule Second added',
        'Routing rule P1 only changed',
        'Routing rule P1 and P2 moved to position 1',
        'Routing rule P1 and P2 deleted',
      ].map((line) => line + by),
    );
    for (const line of data.logs) {
      assert.equal(line.owner, owner);
      assert.ok(!Number.isNaN(Date.parse(line.createdAt)));
    }
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM team_logs WHERE team_id = $1',
      [id],
    );
    assert.equal(rows[0]?.n, data.logs.length);
  });

  it("pages by Opsgenie's offset, newest first unless asked otherwise", async () => {
    const name = `${team}-x`;
    const all = (await logs(name)).logs.map((l: Json) => l.log);
    const first = await logs(name, 'order=asc&limit=5');
    assert.deepEqual(
      first.logs.map((l: Json) => l.log),
      all.slice(0, 5),
    );
    const second = await logs(name, `order=asc&limit=5&offset=${first.offset}`);
    assert.deepEqual(
      second.logs.map((l: Json) => l.log),
      all.slice(5, 10),
    );
    const newest = await logs(name, 'limit=3');
    assert.deepEqual(
      newest.logs.map((l: Json) => l.log),
      all.slice(-3).reverse(),
    );
    const older = await logs(name, `limit=3&offset=${newest.offset}`);
    assert.deepEqual(
      older.logs.map((l: Json) => l.log),
      all.slice(-6, -3).reverse(),
    );
    const bad = await server.call('GET', `/v2/teams/${name}/logs?identifierType=name&offset=x1`);
    assert.equal(bad.status, 422);
  });

  it('is not found by another organization, nor for a team that does not exist', async () => {
    const other = await addOrganization(server, `Other ${run}`);
    const answer = await other.call('GET', `/v2/teams/${team}-x/logs?identifierType=name`);
    assert.equal(answer.status, 404);
    assert.equal((await server.call('GET', `/v2/teams/${randomUUID()}/logs`)).status, 404);
  });
});
