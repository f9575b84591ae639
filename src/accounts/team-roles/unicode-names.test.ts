import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A team's role names beyond ASCII: unique in the team and looked up by name (GET, PATCH, members given
 * the role by name, as Terraform's team memberships do) without regard to case, in Unicode's terms, which
 * the test database's C locale would not give PostgreSQL's lower() (ASCII only).
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
const member = `member-${run}@example.com`;

before(async () => {
  server = await startTestServer();
  await server.callOk('POST', '/v2/users', { username: member, fullName: 'Member', role: { name: 'User' } });
});
after(async () => {
  await server?.stop();
});

async function createTeam(name: string): Promise<string> {
  return (await server.callOk('POST', '/v2/teams', { name })).data.id;
}

const roleByName = (teamId: string, name: string) =>
  `/v2/teams/${teamId}/roles/${encodeURIComponent(name)}?identifierType=name`;

describe('team role names beyond ASCII', () => {
  it('finds a role by its exact name and in any case, and gives it to members by that name', async () => {
    const teamId = await createTeam(`nuit-${run}`);
    const made = await server.call('POST', `/v2/teams/${teamId}/roles`, { name: 'Équipe nuit', rights: [] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    for (const name of ['Équipe nuit', 'ÉQUIPE NUIT', 'équipe nuit', 'E\u0301quipe nuit']) {
      const got = await server.call('GET', roleByName(teamId, name));
      assert.equal(got.status, 200, `${name}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.data.id, made.body.data.id, name);
    }
    const added = await server.call('POST', `/v2/teams/${teamId}/members`, {
      user: { username: member },
      role: 'Équipe nuit',
    });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const team = await server.callOk('GET', `/v2/teams/${teamId}`);
    assert.deepEqual(
      team.data.members.map((m: Json) => [m.user.username, m.role]),
      [[member, 'Équipe nuit']],
    );
  });

  it('refuses a name that differs from another only in case (409), by create and by rename', async () => {
    const teamId = await createTeam(`strasse-${run}`);
    const first = await server.call('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Straße Ärger',
      rights: [],
    });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    for (const name of ['straße ärger', 'STRASSE ÄRGER', 'Stra\u00dfe A\u0308rger']) {
      const clash = await server.call('POST', `/v2/teams/${teamId}/roles`, { name, rights: [] });
      assert.equal(clash.status, 409, `${name}: ${JSON.stringify(clash.body)}`);
    }
    const other = await server.call('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Ärger ailleurs',
      rights: [],
    });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const renamed = await server.call('PATCH', `/v2/teams/${teamId}/roles/${other.body.data.id}`, {
      name: 'straße ärger',
    });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    const recased = await server.call('PATCH', roleByName(teamId, 'STRASSE ÄRGER'), { name: 'Straße ÄRGER' });
    assert.equal(recased.status, 200, JSON.stringify(recased.body));
    const listed = await server.callOk('GET', `/v2/teams/${teamId}/roles`);
    assert.deepEqual(
      listed.data.map((r: Json) => r.name),
      ['Straße ÄRGER', 'Ärger ailleurs'],
    );
    // Another team takes the same name.
    const elsewhere = await createTeam(`elsewhere-${run}`);
    const same = await server.call('POST', `/v2/teams/${elsewhere}/roles`, {
      name: 'straße ärger',
      rights: [],
    });
    assert.equal(same.status, 201, JSON.stringify(same.body));
  });

  it("refuses the built-in roles' names folded the same way ('admın', 'uſer')", async () => {
    const teamId = await createTeam(`builtin-${run}`);
    for (const name of ['admın', 'uſer']) {
      const made = await server.call('POST', `/v2/teams/${teamId}/roles`, { name, rights: [] });
      assert.equal(made.status, 422, `${name}: ${JSON.stringify(made.body)}`);
    }
  });
});
