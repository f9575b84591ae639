import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * opsgenie-go-sdk-v2's maintenance rule has no omitempty on its state, and its validation lets an
 * integration rule's state be empty: Go tools (and what is built on the SDK) send `"state": ""`. That is
 * a state left out, the integration disabled, on create, PUT and PATCH alike.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);
const team = `Deployers ${run}`;

before(async () => {
  server = await startTestServer();
  await server.callOk('POST', '/v2/teams', { name: team });
});
after(async () => {
  await server?.stop();
});

async function apiIntegration(name: string): Promise<{ id: string; apiKey: string }> {
  return (
    await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `${name} ${run}`,
      ownerTeam: { name: team },
    })
  ).data;
}

const emptyStateRule = (id: string) => ({ state: '', entity: { id, type: 'integration' } });
const rulesOf = async (id: string): Promise<Json> =>
  (await server.callOk('GET', `/v1/maintenance/${id}`)).data.rules;

it('takes an empty state on an integration rule as disabled, on create, PUT and PATCH', async () => {
  const first = await apiIntegration('Deploy');
  const second = await apiIntegration('Checks');
  const made = await server.call('POST', '/v1/maintenance', {
    description: `go sdk ${run}`,
    time: { type: 'for-1-hour' },
    rules: [emptyStateRule(first.id)],
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const { id } = made.body.data;
  assert.deepEqual(await rulesOf(id), [{ state: 'disabled', entity: { id: first.id, type: 'integration' } }]);
  const refused = await server.call('POST', '/v2/alerts', { message: `during ${run}` }, first.apiKey);
  assert.equal(refused.status, 401, JSON.stringify(refused.body));
  assert.match(refused.body.message, /is disabled by maintenance/);

  const put = await server.call('PUT', `/v1/maintenance/${id}`, {
    time: { type: 'for-1-hour' },
    rules: [emptyStateRule(second.id)],
  });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(await rulesOf(id), [
    { state: 'disabled', entity: { id: second.id, type: 'integration' } },
  ]);

  const patched = await server.call('PATCH', `/v1/maintenance/${id}`, {
    rules: [emptyStateRule(first.id), emptyStateRule(second.id)],
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(await rulesOf(id), [
    { state: 'disabled', entity: { id: first.id, type: 'integration' } },
    { state: 'disabled', entity: { id: second.id, type: 'integration' } },
  ]);
});

it('still refuses a state that is neither empty, enabled nor disabled', async () => {
  const integration = await apiIntegration('Other');
  const refused = await server.call('POST', '/v1/maintenance', {
    time: { type: 'for-1-hour' },
    rules: [{ state: 'off', entity: { id: integration.id, type: 'integration' } }],
  });
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
});
