import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUserWithKey, startTestServer, type TestServer, type TestUser } from '../testing/harness.js';

/**
 * An API integration's key with configuration access reaches only its owner team: deleting another team,
 * adding or removing its members and reading its log answer as reading it does (GET /v2/teams/{id}), a 403
 * that names the team only as the caller did, or a 404 for a name no team has; never the team's name.
 */
describe("an integration key on another team's members, deletion and log", () => {
  let server: TestServer;
  const run = randomUUID().slice(0, 8);
  const secret = `secret-${run}`;
  let secretId: string;
  let own: string;
  let key: string;
  let member: TestUser;
  before(async () => {
    server = await startTestServer();
    member = await addUserWithKey(server, 'member', run);
    own = (await server.callOk('POST', '/v2/teams', { name: `own-${run}` })).data.id;
    secretId = (
      await server.callOk('POST', '/v2/teams', {
        name: secret,
        members: [{ user: { username: member.username } }],
      })
    ).data.id;
    key = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `own-config-${run}`,
        ownerTeam: { id: own },
        allowConfigurationAccess: true,
      })
    ).data.apiKey;
  });
  after(() => server.stop());

  const requests = (team: string, query: string) =>
    [
      ['GET', `/v2/teams/${team}${query}`, undefined],
      ['DELETE', `/v2/teams/${team}${query}`, undefined],
      ['POST', `/v2/teams/${team}/members${query}`, { user: { username: member.username } }],
      ['DELETE', `/v2/teams/${team}/members/${member.username}${query}`, undefined],
      ['GET', `/v2/teams/${team}/logs${query}`, undefined],
    ] as const;

  it('refuses them as it refuses reading the team, naming the team only as asked', async () => {
    const membersBefore = (await server.callOk('GET', `/v2/teams/${secretId}`)).data.members;
    for (const [team, query] of [
      [secretId, ''],
      [secret, '?identifierType=name'],
    ] as const) {
      const answers = [];
      for (const [method, path, body] of requests(team, query)) {
        const got = await server.call(method, path, body, key);
        assert.equal(got.status, 403, `${method} ${path}: ${JSON.stringify(got.body)}`);
        assert.match(got.body.message, /reaches only its owner team's configuration/, `${method} ${path}`);
        if (query === '')
          assert.doesNotMatch(JSON.stringify(got.body), new RegExp(secret), `${method} ${path}`);
        answers.push(got.body.message);
      }
      // Word for word what reading the team answers.
      assert.deepEqual(new Set(answers).size, 1, answers.join('\n'));
    }
    // A name no team has: 404, as reading it.
    for (const [method, path, body] of requests(`none-${run}`, '?identifierType=name')) {
      const got = await server.call(method, path, body, key);
      assert.equal(got.status, 404, `${method} ${path}: ${JSON.stringify(got.body)}`);
    }
    assert.equal((await server.call('GET', `/v2/teams/${secretId}`)).status, 200, 'not deleted');
    assert.deepEqual((await server.callOk('GET', `/v2/teams/${secretId}`)).data.members, membersBefore);
  });

  it('still manages its own team', async () => {
    const added = await server.call(
      'POST',
      `/v2/teams/${own}/members`,
      { user: { username: member.username } },
      key,
    );
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal((await server.call('GET', `/v2/teams/${own}/logs`, undefined, key)).status, 200);
    const removed = await server.call(
      'DELETE',
      `/v2/teams/${own}/members/${member.username}`,
      undefined,
      key,
    );
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
  });
});
