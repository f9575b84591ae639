import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUserWithKey, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

/**
 * An API integration's key with allowConfigurationAccess acts as an admin of its owner team and may give
 * the admin role: making such a key (create, turning the flag on, moving it to a team, regenerating its
 * key) needs every right of a team admin, so edit-integrations alone no longer makes its holder an admin.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
let team: string;
let other: string;
let admin: TestUser;
let integrator: TestUser;
let configurer: TestUser;

before(async () => {
  server = await startTestServer();
  admin = await addUserWithKey(server, 'admin', run);
  integrator = await addUserWithKey(server, 'integrator', run);
  configurer = await addUserWithKey(server, 'configurer', run);
  team = (
    await server.callOk('POST', '/v2/teams', {
      name: `Payments-${run}`,
      members: [{ user: { username: admin.username }, role: 'admin' }],
    })
  ).data.id;
  other = (
    await server.callOk('POST', '/v2/teams', {
      name: `Security-${run}`,
      members: [{ user: { username: admin.username }, role: 'admin' }],
    })
  ).data.id;
  for (const id of [team, other]) {
    await server.callOk('POST', `/v2/teams/${id}/roles`, {
      name: 'Integrator',
      rights: [{ right: 'edit-integrations', granted: true }],
    });
    await server.callOk('POST', `/v2/teams/${id}/members`, {
      user: { username: integrator.username },
      role: 'Integrator',
    });
  }
  // A custom user role that edits every team's configuration, but may not delete teams.
  await server.callOk('POST', '/v2/roles', {
    name: `Configurer-${run}`,
    extendedRole: 'user',
    grantedRights: ['configurations-edit'],
  });
  await server.callOk('PATCH', `/v2/users/${configurer.id}`, { role: { name: `Configurer-${run}` } });
});
after(async () => {
  await server.stop();
});

let made = 0;
/** An API integration of `owner` made with the org admin's key; answers its id. */
async function integration(configures: boolean, owner = team): Promise<string> {
  return (
    await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Grafana-${run}-${++made}`,
      ownerTeam: { id: owner },
      allowConfigurationAccess: configures,
    })
  ).data.id;
}

function assertRefused(answer: { status: number; body: { message?: string } }, lacking: string) {
  assert.equal(answer.status, 403, JSON.stringify(answer.body));
  assert.match(answer.body.message ?? '', /allowConfigurationAccess/);
  assert.match(answer.body.message ?? '', new RegExp(`you lack [^.]*${lacking}`));
}

describe('an API integration with allowConfigurationAccess needs every right of a team admin', () => {
  const create = (key: string | undefined, configures: boolean) =>
    server.call(
      'POST',
      '/v2/integrations',
      {
        type: 'API',
        name: `Made-${run}-${++made}`,
        ownerTeam: { id: team },
        allowConfigurationAccess: configures,
      },
      key,
    );

  it('creating one is refused to edit-integrations alone and to configurations-edit alone', async () => {
    assertRefused(await create(integrator.key, true), 'manage-members');
    assertRefused(await create(configurer.key, true), 'delete-team');
    // Nor does the refused key become an admin: the member is still what they were.
    const members = (await server.callOk('GET', `/v2/teams/${team}`)).data.members;
    assert.equal(
      members.find((m: { user: { username: string } }) => m.user.username === integrator.username).role,
      'Integrator',
    );
  });

  it('creating one without configuration access still needs only edit-integrations', async () => {
    assert.equal((await create(integrator.key, false)).status, 201);
    assert.equal((await create(configurer.key, false)).status, 201);
  });

  it("creating one is allowed to the team's admins, org admins and a key of the team with configuration access", async () => {
    const byAdmin = await create(admin.key, true);
    assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
    assert.equal((await create(undefined, true)).status, 201);
    // Terraform, run with such a key made by the team's admin, keeps making them.
    assert.equal((await create(byAdmin.body.data.apiKey, true)).status, 201);
  });

  it('turning the flag on is refused to edit-integrations alone and to configurations-edit alone', async () => {
    const id = await integration(false);
    const on = { allowConfigurationAccess: true };
    assertRefused(await server.call('PATCH', `/v2/integrations/${id}`, on, integrator.key), 'manage-members');
    assertRefused(await server.call('PATCH', `/v2/integrations/${id}`, on, configurer.key), 'delete-team');
    const put = { type: 'API', name: `Put-${run}`, ownerTeam: { id: team }, allowConfigurationAccess: true };
    assertRefused(await server.call('PUT', `/v2/integrations/${id}`, put, integrator.key), 'manage-members');
    const stored = (await server.callOk('GET', `/v2/integrations/${id}`)).data;
    assert.equal(stored.allowConfigurationAccess, false);
    assert.equal((await server.call('PATCH', `/v2/integrations/${id}`, on, admin.key)).status, 200);
    // Once on, a change that keeps it on (and its owner team) hands out no key: edit-integrations does.
    const renamed = await server.call(
      'PATCH',
      `/v2/integrations/${id}`,
      { name: `Renamed-${run}` },
      integrator.key,
    );
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    // And turning it off again too.
    const off = { allowConfigurationAccess: false };
    assert.equal((await server.call('PATCH', `/v2/integrations/${id}`, off, integrator.key)).status, 200);
  });

  it('turning the flag on is allowed to org admins', async () => {
    const id = await integration(false);
    const on = { allowConfigurationAccess: true };
    assert.equal((await server.call('PATCH', `/v2/integrations/${id}`, on)).status, 200);
  });

  it('moving one to another team needs every right on both teams', async () => {
    const id = await integration(true);
    const move = { ownerTeam: { id: other } };
    assertRefused(
      await server.call('PATCH', `/v2/integrations/${id}`, move, integrator.key),
      'manage-members',
    );
    assertRefused(await server.call('PATCH', `/v2/integrations/${id}`, move, configurer.key), 'delete-team');
    // An admin of one of the two teams only, with edit-integrations on the other: refused either way.
    const half = await addUserWithKey(server, 'half', run);
    await server.callOk('POST', `/v2/teams/${team}/members`, {
      user: { username: half.username },
      role: 'admin',
    });
    await server.callOk('POST', `/v2/teams/${other}/members`, {
      user: { username: half.username },
      role: 'Integrator',
    });
    assertRefused(await server.call('PATCH', `/v2/integrations/${id}`, move, half.key), 'manage-members');
    const back = await integration(true, other);
    const moveBack = { ownerTeam: { id: team } };
    assertRefused(
      await server.call('PATCH', `/v2/integrations/${back}`, moveBack, half.key),
      'manage-members',
    );
    const moved = await server.call('PATCH', `/v2/integrations/${id}`, move, admin.key);
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.data.ownerTeam.id, other);
  });

  it('regenerating the key is refused to edit-integrations alone and to configurations-edit alone', async () => {
    const id = await integration(true);
    assertRefused(
      await server.call('POST', `/v2/integrations/${id}/api-key`, {}, integrator.key),
      'manage-members',
    );
    assertRefused(
      await server.call('POST', `/v2/integrations/${id}/api-key`, {}, configurer.key),
      'delete-team',
    );
    const byAdmin = await server.call('POST', `/v2/integrations/${id}/api-key`, {}, admin.key);
    assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
    assert.equal((await server.call('POST', `/v2/integrations/${id}/api-key`, {})).status, 200);
  });

  it('regenerating the key of one without configuration access still needs only edit-integrations', async () => {
    const id = await integration(false);
    for (const user of [integrator, configurer]) {
      const regenerated = await server.call('POST', `/v2/integrations/${id}/api-key`, {}, user.key);
      assert.equal(regenerated.status, 200, JSON.stringify(regenerated.body));
      assert.ok(regenerated.body.data.apiKey);
    }
  });
});
