import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  startTestServer,
  type Json,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';

/**
 * access-logs is a right like the others: a member whose custom team role lacks it may not grant it, to a
 * role or to themselves by a role, nor weaken or delete a role that grants it. Only the built-in user role,
 * what any member may do, is given and taken by whoever manages the members, access-logs and all.
 */
describe('access-logs, given and taken with team roles', () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  let teamId: string;
  let manager: TestUser;
  let plain: TestUser;
  let other: TestUser;
  before(async () => {
    server = await startTestServer();
    manager = await addUserWithKey(server, 'manager', run);
    plain = await addUserWithKey(server, 'plain', run);
    other = await addUserWithKey(server, 'other', run);
    teamId = (await server.callOk('POST', '/v2/teams', { name: `logs-${run}` })).data.id;
    const role = (name: string, rights: string[]) =>
      server.callOk('POST', `/v2/teams/${teamId}/roles`, {
        name,
        rights: rights.map((right) => ({ right, granted: true })),
      });
    await role('Mgr', ['manage-members', 'edit-team-roles']);
    await role('Reader', ['access-logs']);
    await role('Empty', []);
    await server.callOk('POST', `/v2/teams/${teamId}/members`, {
      user: { username: manager.username },
      role: 'Mgr',
    });
  });
  after(() => server.stop());

  const asManager = (method: string, path: string, body?: Json) =>
    server.call(method, `/v2/teams/${teamId}${path}`, body, manager.key);
  const stored = async () =>
    (
      await server.app.context.db
        .selectFrom('team_roles')
        .select(['name', 'rights'])
        .where('team_id', '=', teamId)
        .orderBy('name')
        .execute()
    ).map((r) => `${r.name}: ${r.rights.join(',')}`);
  const members = async () =>
    Object.fromEntries(
      (await server.callOk('GET', `/v2/teams/${teamId}`)).data.members.map((m: Json) => [
        m.user.username,
        m.role,
      ]),
    );

  it('refuses one lacking access-logs a role that grants it, and keeps them from the log', async () => {
    assert.equal((await asManager('GET', '/logs')).status, 403);
    const rolesBefore = await stored();

    // The hunter's way in: a role like theirs with access-logs, then given to themselves.
    const made = await asManager('POST', '/roles', {
      name: 'Mgr2',
      rights: ['manage-members', 'edit-team-roles', 'access-logs'].map((right) => ({ right, granted: true })),
    });
    assert.equal(made.status, 403, JSON.stringify(made.body));
    assert.match(made.body.message, /you lack access-logs/);
    for (const [method, path, body] of [
      ['PATCH', '/roles/Empty?identifierType=name', { rights: [{ right: 'access-logs', granted: true }] }],
      ['PATCH', '/roles/Reader?identifierType=name', { rights: [{ right: 'access-logs', granted: false }] }],
      ['DELETE', '/roles/Reader?identifierType=name', undefined],
    ] as const) {
      const refused = await asManager(method, path, body);
      assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /you lack access-logs/);
    }
    assert.deepEqual(await stored(), rolesBefore);

    // Nor gives a role granting it, to themselves or another.
    for (const username of [manager.username, other.username]) {
      const given = await asManager('POST', '/members', { user: { username }, role: 'Reader' });
      assert.equal(given.status, 403, JSON.stringify(given.body));
      assert.match(given.body.message, /\[Reader\].*you lack access-logs/);
    }
    // Nor the built-in user role to themselves (which any member holds, and grants access-logs), by
    // the members route or by the team's member list.
    const demoted = await asManager('POST', '/members', {
      user: { username: manager.username },
      role: 'user',
    });
    assert.equal(demoted.status, 403, JSON.stringify(demoted.body));
    assert.match(demoted.body.message, /\[user\].*you lack access-logs/i);
    const listed = await asManager('PATCH', '', {
      members: [{ user: { username: manager.username }, role: 'user' }],
    });
    assert.equal(listed.status, 403, JSON.stringify(listed.body));
    assert.deepEqual(await members(), { [manager.username]: 'Mgr' });
    assert.equal((await asManager('GET', '/logs')).status, 403);
  });

  it('lets whoever manages the members give and take the built-in user role all the same', async () => {
    const added = await asManager('POST', '/members', { user: { username: plain.username } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    // Taking it by another role (Empty grants nothing the manager lacks) and by removal: allowed too.
    const changed = await asManager('POST', '/members', {
      user: { username: plain.username },
      role: 'Empty',
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    await asManager('POST', '/members', { user: { username: plain.username }, role: 'user' });
    assert.deepEqual(await members(), { [manager.username]: 'Mgr', [plain.username]: 'user' });
    const removed = await asManager('DELETE', `/members/${plain.username}`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(await members(), { [manager.username]: 'Mgr' });

    // One who holds access-logs grants it as any other right.
    await server.callOk('PATCH', `/v2/teams/${teamId}/roles/Mgr?identifierType=name`, {
      rights: [{ right: 'access-logs', granted: true }],
    });
    const made = await asManager('POST', '/roles', {
      name: 'Logs',
      rights: [{ right: 'access-logs', granted: true }],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const given = await asManager('POST', '/members', { user: { username: other.username }, role: 'Reader' });
    assert.equal(given.status, 200, JSON.stringify(given.body));
  });
});
