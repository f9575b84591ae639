import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUserWithKey, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

/**
 * A team update with nothing to change asks the rights a change would, and an integration's key reaches
 * only its owner team there and in the console's rights look-up, as it does reading the team: answered to
 * anyone, an empty PATCH told who could not see a team its id and name (and bumped its updated_at).
 */
describe('a team update with nothing to change, and the team rights look-up', () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  const secret = `secret-${run}`;
  let secretId: string;
  let alpha: string;
  let integrationKey: string;
  let plain: TestUser;
  before(async () => {
    server = await startTestServer();
    alpha = (await server.callOk('POST', '/v2/teams', { name: `alpha-${run}` })).data.id;
    secretId = (await server.callOk('POST', '/v2/teams', { name: secret })).data.id;
    integrationKey = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `alpha-config-${run}`,
        ownerTeam: { id: alpha },
        allowConfigurationAccess: true,
      })
    ).data.apiKey;
    plain = await addUserWithKey(server, 'plain', run);
  });
  after(() => server.stop());

  const updatedAt = async (id: string) =>
    (
      await server.app.context.db
        .selectFrom('teams')
        .select('updated_at')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).updated_at.getTime();

  it("refuses an integration's key another team's empty update and rights, as it refuses reading it", async () => {
    const byName = `/v2/teams/${secret}?identifierType=name`;
    const read = await server.call('GET', byName, undefined, integrationKey);
    assert.equal(read.status, 403, JSON.stringify(read.body));
    const before = await updatedAt(secretId);

    const patched = await server.call('PATCH', byName, {}, integrationKey);
    assert.equal(patched.status, 403, JSON.stringify(patched.body));
    assert.doesNotMatch(JSON.stringify(patched.body), new RegExp(secretId));
    const rights = await server.call(
      'GET',
      `/api/console/teams/${secret}/rights?identifierType=name`,
      undefined,
      integrationKey,
    );
    assert.equal(rights.status, 403, JSON.stringify(rights.body));
    assert.equal(await updatedAt(secretId), before, 'nothing written');

    // Its own team, as before.
    assert.equal((await server.call('PATCH', `/v2/teams/${alpha}`, {}, integrationKey)).status, 200);
    const own = await server.call('GET', `/api/console/teams/${alpha}/rights`, undefined, integrationKey);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.ok(own.body.rights.length > 0, JSON.stringify(own.body));
  });

  it('asks for the right a change of the team would, and writes nothing when allowed', async () => {
    const path = `/v2/teams/${secretId}`;
    const refused = await server.call('PATCH', path, {}, plain.key);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /edit-team-info/);

    const before = await updatedAt(secretId);
    const done = await server.call('PATCH', path, {});
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body.data, { id: secretId, name: secret });
    assert.equal(await updatedAt(secretId), before, 'an empty change leaves updated_at as it was');
    await server.callOk('PATCH', path, { description: 'changed' });
    assert.notEqual(await updatedAt(secretId), before, 'a real change moves it on');
  });
});
