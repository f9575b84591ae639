import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

describe('users, teams and API keys', () => {
  it('creates, reads, updates and deletes users in Opsgenie shapes', async () => {
    const created = await server.call('POST', '/v2/users', {
      username: 'jane@example.com',
      fullName: 'Jane Doe',
      role: { name: 'User' },
      timeZone: 'Europe/Berlin',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.result, 'Created');
    const id = created.body.data.id;

    const byName = await server.call('GET', '/v2/users/jane@example.com');
    assert.equal(byName.body.data.id, id);
    assert.deepEqual(byName.body.data.role, { id: 'User', name: 'User' });
    assert.equal(byName.body.data.timeZone, 'Europe/Berlin');

    const dup = await server.call('POST', '/v2/users', {
      username: 'JANE@example.com',
      fullName: 'J',
      role: { name: 'User' },
    });
    assert.equal(dup.status, 409);

    const badZone = await server.call('POST', '/v2/users', {
      username: 'z@example.com',
      fullName: 'Z',
      role: { name: 'User' },
      timeZone: 'Mars/Olympus',
    });
    assert.equal(badZone.status, 422);
    assert.ok(badZone.body.errors.timeZone);

    const updated = await server.call('PATCH', `/v2/users/${id}`, { fullName: 'Jane Q. Doe' });
    assert.equal(updated.status, 200);
    const list = await server.call('GET', '/v2/users?query=jane');
    assert.equal(list.body.totalCount, 1);
    assert.equal(list.body.data[0].fullName, 'Jane Q. Doe');

    assert.equal((await server.call('DELETE', `/v2/users/${id}`)).status, 200);
    assert.equal((await server.call('GET', `/v2/users/${id}`)).status, 404);
  });

  it('manages teams and their members with roles', async () => {
    await server.call('POST', '/v2/users', {
      username: 'sam@example.com',
      fullName: 'Sam',
      role: { name: 'User' },
    });
    await server.call('POST', '/v2/users', {
      username: 'kim@example.com',
      fullName: 'Kim',
      role: { name: 'User' },
    });
    const team = await server.call('POST', '/v2/teams', {
      name: 'SecOps',
      description: 'Security operations',
      members: [{ user: { username: 'sam@example.com' }, role: 'admin' }],
    });
    assert.equal(team.status, 201, JSON.stringify(team.body));
    const got = await server.call('GET', '/v2/teams/SecOps?identifierType=name');
    assert.equal(got.body.data.id, team.body.data.id);
    assert.deepEqual(
      got.body.data.members.map((m: { user: { username: string }; role: string }) => [
        m.user.username,
        m.role,
      ]),
      [['sam@example.com', 'admin']],
    );

    const add = await server.call('POST', `/v2/teams/${team.body.data.id}/members`, {
      user: { username: 'kim@example.com' },
      role: 'user',
    });
    assert.equal(add.status, 200);
    const teamsOfKim = await server.call('GET', '/v2/users/kim@example.com/teams');
    assert.deepEqual(
      teamsOfKim.body.data.map((t: { name: string }) => t.name),
      ['SecOps'],
    );

    const remove = await server.call('DELETE', `/v2/teams/${team.body.data.id}/members/kim@example.com`);
    assert.equal(remove.status, 200);
    const removeAgain = await server.call('DELETE', `/v2/teams/${team.body.data.id}/members/kim@example.com`);
    assert.equal(removeAgain.status, 404);

    const dup = await server.call('POST', '/v2/teams', { name: 'secops' });
    assert.equal(dup.status, 409);
    const unknownMember = await server.call('POST', '/v2/teams', {
      name: 'Other',
      members: [{ user: { username: 'ghost@example.com' } }],
    });
    assert.equal(unknownMember.status, 422);
    assert.ok(unknownMember.body.errors['members[0].user']);
    assert.equal((await server.call('GET', '/v2/teams/Other?identifierType=name')).status, 404);

    const renamed = await server.call('PATCH', `/v2/teams/${team.body.data.id}`, {
      description: 'SecOps on call',
    });
    assert.equal(renamed.status, 200);
    assert.equal((await server.call('DELETE', '/v2/teams/SecOps?identifierType=name')).status, 200);
    assert.equal((await server.call('GET', '/v2/teams')).body.data.length, 0);
  });

  it('shows a new API key once, stores only its hash, and stops it working when deleted', async () => {
    const user = await server.call('POST', '/v2/users', {
      username: 'ops@example.com',
      fullName: 'Ops',
      role: { name: 'User' },
    });
    const created = await server.call('POST', '/v2/api-keys', {
      name: 'ops script',
      user: { id: user.body.data.id },
    });
    assert.equal(created.status, 201);
    const key = created.body.data.key;
    assert.match(key, /^[0-9a-f-]{36}$/);

    const listed = await server.call('GET', '/v2/api-keys');
    assert.ok(listed.body.data.every((k: Record<string, unknown>) => !('key' in k)));
    assert.ok(!JSON.stringify(listed.body).includes(key));

    // A plain user's key works for alerts but cannot manage users.
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);
    const forbidden = await server.call(
      'POST',
      '/v2/users',
      { username: 'x@example.com', fullName: 'X', role: { name: 'User' } },
      key,
    );
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body.message, /admin/);

    // Blocking the user stops their key.
    await server.call('PATCH', `/v2/users/${user.body.data.id}`, { blocked: true });
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 401);
    await server.call('PATCH', `/v2/users/${user.body.data.id}`, { blocked: false });

    assert.equal((await server.call('DELETE', `/v2/api-keys/${created.body.data.id}`)).status, 200);
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 401);
  });

  it('bootstraps once: a second start with another key creates nothing', async () => {
    const again = await startTestServer({ databaseUrl: server.databaseUrl, role: 'api' });
    try {
      assert.equal((await again.call('GET', '/v2/alerts')).status, 401);
      assert.equal((await again.call('GET', '/v2/alerts', undefined, server.key)).status, 200);
    } finally {
      await again.stop();
    }
  });

  it('lets an admin change the plan and refuses others', async () => {
    const org = await server.call('PATCH', '/v2/organization', { plan: 'standard' });
    assert.equal(org.status, 200);
    assert.equal((await server.call('GET', '/v2/organization')).body.data.plan, 'standard');
    const bad = await server.call('PATCH', '/v2/organization', { plan: 'gold' });
    assert.equal(bad.status, 422);
  });

  it("answers GET /v2/account as Opsgenie's Account API does", async () => {
    const account = await server.call('GET', '/v2/account');
    assert.equal(account.status, 200);
    const users = await server.call('GET', '/v2/users?limit=100');
    assert.deepEqual(Object.keys(account.body.data).sort(), ['name', 'plan', 'userCount']);
    assert.ok(account.body.data.userCount > 0);
    assert.equal(account.body.data.userCount, users.body.totalCount);
    assert.deepEqual(Object.keys(account.body.data.plan).sort(), ['isYearly', 'maxUserCount', 'name']);
    assert.equal(account.body.data.plan.name, 'Standard');
  });
});
