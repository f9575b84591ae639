import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../logger.js';
import { createAccountsService } from '../accounts/service.js';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { queryCounter } from '../testing/query-counter.js';
import { createIntegrationsService } from './service.js';

/**
 * POST /v2/integrations with an apiKey: an integration moved from Opsgenie keeps its key, so its senders
 * change only the host. Org admins only; a key that is already any integration's or user's is refused.
 */

let server: TestServer;
let teamAdminKey: string;
const team = `Keys ${randomUUID().slice(0, 8)}`;

before(async () => {
  server = await startTestServer();
  const user = await server.callOk('POST', '/v2/users', {
    username: `lead-${randomUUID().slice(0, 8)}@example.com`,
    fullName: 'Team Lead',
    role: { name: 'User' },
  });
  await server.callOk('POST', '/v2/teams', {
    name: team,
    members: [{ user: { id: user.data.id }, role: 'admin' }],
  });
  teamAdminKey = (await server.callOk('POST', '/v2/api-keys', { name: 'lead', user: { id: user.data.id } }))
    .data.key;
});

after(() => server?.stop());

describe('an integration made with a key of its own', () => {
  it('works with that key at once, as the integration', async () => {
    const key = randomUUID();
    const made = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: `Moved ${key}`,
      ownerTeam: { name: team },
      apiKey: key,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const created = await server.call('POST', '/v2/alerts', { message: 'sent with the old key' }, key);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const alerts = await server.callOk(
      'GET',
      `/v2/alerts?query=${encodeURIComponent('message:"sent with the old key"')}`,
    );
    assert.equal(alerts.data.length, 1);
    assert.equal(alerts.data[0].integration.id, made.body.data.id, 'the alert came through that integration');
  });

  it('works at once with a key its senders already used before it was made (refused until then)', async () => {
    const key = randomUUID();
    const early = await server.call('POST', '/v2/alerts', { message: 'too early' }, key);
    assert.equal(early.status, 401, 'no integration has the key yet');
    const made = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: `Moved early ${key}`,
      ownerTeam: { name: team },
      apiKey: key,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const created = await server.call('POST', '/v2/alerts', { message: 'right after the move' }, key);
    assert.equal(
      created.status,
      202,
      'the refusal kept for a few seconds is forgotten when the key is given',
    );
  });

  it('keeps no refusal read while its integration was being made', async () => {
    // A service of its own (its own key cache) on the test server's database, its queries counted.
    const queries = queryCounter();
    const integrations = createIntegrationsService(server.app.context.apiDb.withPlugin(queries.plugin), {
      writebackRolePrefix: 'VigilSecurityHubRole',
    });
    const admin = await createAccountsService(server.app.context.apiDb, createLogger('silent')).authenticate(
      server.key,
    );
    assert.ok(admin);
    const key = randomUUID();
    // Its key lookup is still in flight while the integration is made with that key.
    const release = queries.holdNext();
    const inFlight = integrations.byApiKey(key);
    const made = await integrations.create(admin, {
      type: 'API',
      name: `Made meanwhile ${key}`,
      ownerTeam: { name: team },
      settings: {},
      apiKey: key,
    });
    release();
    assert.equal(await inFlight, undefined, 'the lookup read the keys before the integration was made');
    const before = queries.count;
    assert.equal(
      (await integrations.byApiKey(key))?.id,
      made.integration.id,
      'the refusal read before the integration was made was not kept',
    );
    assert.equal(queries.count - before, 1, 'the key was read again');
  });

  it('makes one integration of several created at once with the same key; the others get a 409', async () => {
    const key = randomUUID();
    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        server.call('POST', '/v2/integrations', {
          type: 'API',
          name: `Race ${n} ${key}`,
          ownerTeam: { name: team },
          apiKey: key,
        }),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [201, 409, 409, 409],
      JSON.stringify(answers.map((a) => a.body)),
    );
    for (const refused of answers.filter((a) => a.status === 409))
      assert.match(JSON.stringify(refused.body), /already in use/);
    const listed = await server.callOk('GET', '/v2/integrations');
    assert.equal(
      listed.data.filter((i: { name: string }) => i.name.endsWith(key)).length,
      1,
      'one integration holds the key',
    );
  });

  it('refuses a key already in use, by an integration or by a user, with a 409', async () => {
    const key = randomUUID();
    await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `First ${key}`,
      ownerTeam: { name: team },
      apiKey: key,
    });
    const again = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: `Second ${key}`,
      ownerTeam: { name: team },
      apiKey: key,
    });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.match(again.body.message, /already in use/);
    assert.ok(!JSON.stringify(again.body).includes(key), 'the key is not repeated back');
    const users = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: `User's ${key}`,
      ownerTeam: { name: team },
      apiKey: server.key,
    });
    assert.equal(users.status, 409, JSON.stringify(users.body));
    const list = await server.callOk('GET', '/v2/integrations');
    assert.equal(list.data.filter((i: { name: string }) => i.name.endsWith(key)).length, 1);
  });

  it('refuses keys that are too short or hold other characters, with a 422', async () => {
    for (const apiKey of [
      'short-key',
      `${randomUUID()} `,
      `${randomUUID()}\u0000`,
      'x'.repeat(129),
      `-${randomUUID()}`,
    ]) {
      const answer = await server.call('POST', '/v2/integrations', {
        type: 'API',
        name: `Bad ${randomUUID()}`,
        ownerTeam: { name: team },
        apiKey,
      });
      assert.equal(answer.status, 422, `${JSON.stringify(apiKey)}: ${JSON.stringify(answer.body)}`);
    }
  });

  it('is for organization admins only: a team admin may make the integration, not choose its key', async () => {
    const key = randomUUID();
    const refused = await server.call(
      'POST',
      '/v2/integrations',
      { type: 'API', name: `Lead ${key}`, ownerTeam: { name: team }, apiKey: key },
      teamAdminKey,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    const allowed = await server.call(
      'POST',
      '/v2/integrations',
      { type: 'API', name: `Lead ${key}`, ownerTeam: { name: team } },
      teamAdminKey,
    );
    assert.equal(allowed.status, 201, JSON.stringify(allowed.body));
    assert.notEqual(allowed.body.data.apiKey, key);
    const withRefusedKey = await server.call('GET', '/v2/alerts', undefined, key);
    assert.equal(withRefusedKey.status, 401);
  });
});
