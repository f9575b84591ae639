import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';

/** GET /v2/integrations?teamId= takes a team's id, a UUID: anything else is refused naming teamId. */

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

describe('the teamId filter of GET /v2/integrations', () => {
  it('refuses an id that is not a UUID with a 422 naming teamId, not PostgreSQL’s words', async () => {
    const answer = await server.call('GET', '/v2/integrations?teamId=-1');
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.deepEqual(Object.keys(answer.body.errors), ['teamId']);
    assert.doesNotMatch(JSON.stringify(answer.body), /invalid input syntax/);
  });

  it('lists a team’s integrations by its id', async () => {
    const team = (await server.callOk('POST', '/v2/teams', { name: 'list-team-id' })).data;
    await server.callOk('POST', '/v2/integrations', {
      name: 'Its API',
      type: 'API',
      ownerTeam: { id: team.id },
    });
    const listed = await server.callOk('GET', `/v2/integrations?teamId=${team.id}`);
    assert.deepEqual(
      listed.data.map((i: { name: string }) => i.name),
      ['Its API'],
    );
  });
});
