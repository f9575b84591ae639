import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * Opsgenie's other integration types (Prometheus, Grafana, Datadog, Marid, Zabbix…: Terraform's
 * opsgenie_api_integration takes `type` as free text) are API integrations that keep their type name, and an
 * integration created without an owner team (the provider's own example, the Go SDK's CreateApiBased) takes
 * the one team its responders name.
 */

let server: TestServer;
const run = randomUUID().replaceAll('-', '').slice(0, 8);
let team: { id: string; name: string };
let other: { id: string; name: string };

async function makeTeam(name: string) {
  await server.callOk('POST', '/v2/teams', { name });
  return { id: (await server.callOk('GET', `/v2/teams/${name}?identifierType=name`)).data.id, name };
}

before(async () => {
  server = await startTestServer();
  team = await makeTeam(`og_types_${run}`);
  other = await makeTeam(`og_other_${run}`);
});

after(() => server?.stop());

describe("integrations of Opsgenie's other types", () => {
  it('a Prometheus integration is made, reads back as Prometheus, and its key works as an API one', async () => {
    const apiKey = randomUUID();
    const made = await server.call('POST', '/v2/integrations', {
      type: 'Prometheus',
      name: `Alertmanager ${run}`,
      ownerTeam: { id: team.id },
      allowDeleteAccess: false,
      apiKey,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.data.id;
    assert.equal(made.body.data.type, 'Prometheus');
    const got = (await server.callOk('GET', `/v2/integrations/${id}`)).data;
    assert.equal(got.type, 'Prometheus');
    assert.deepEqual(
      [got.allowReadAccess, got.allowWriteAccess, got.allowDeleteAccess, got.allowConfigurationAccess],
      [true, true, false, false],
    );
    const listed = (await server.callOk('GET', `/v2/integrations?teamId=${team.id}`)).data;
    assert.equal(listed.find((i: Json) => i.id === id)?.type, 'Prometheus');
    const actions = await server.callOk('GET', `/v2/integrations/${id}/actions`);
    assert.equal(actions.data._parent.type, 'Prometheus');
    const byType = (await server.callOk('GET', '/v2/integrations?type=Prometheus')).data;
    assert.deepEqual(
      byType.map((i: Json) => i.id),
      [id],
    );

    // Alertmanager sends to the Alert API with the integration's key.
    const alert = await server.call('POST', '/v2/alerts', { message: `firing ${run}` }, apiKey);
    assert.equal(alert.status, 202, JSON.stringify(alert.body));
    const deleted = await server.call('DELETE', `/v2/alerts/${randomUUID()}`, undefined, apiKey);
    assert.equal(deleted.status, 403, 'its access flags apply as an API integration’s do');
    assert.match(deleted.body.message, /\ballowDeleteAccess\b/);

    // Terraform's update: the type as read back; another type is refused.
    const put = await server.call('PUT', `/v2/integrations/${id}`, {
      ...got,
      name: `Alertmanager ${run} renamed`,
      type: 'Prometheus',
      responders: null,
      emailUsername: '',
      url: '',
      addAlertDescription: null,
      addAlertDetails: null,
      headers: {},
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.data.type, 'Prometheus');
    const retyped = await server.call('PUT', `/v2/integrations/${id}`, { type: 'API' });
    assert.equal(retyped.status, 422, JSON.stringify(retyped.body));
    assert.match(retyped.body.errors.type, /is Prometheus/);
  });

  it('a type name that is not a plain name, or a known type spelled otherwise, is refused', async () => {
    for (const type of ['Prom<etheus>', 'x'.repeat(101), ' Grafana', 'webhook', 'api']) {
      const made = await server.call('POST', '/v2/integrations', {
        type,
        name: `Odd ${run} ${type.length}`,
        ownerTeam: { id: team.id },
      });
      assert.equal(made.status, 422, `${type}: ${JSON.stringify(made.body)}`);
      assert.ok(made.body.errors.type, JSON.stringify(made.body));
    }
  });
});

describe('an integration made without an owner team', () => {
  it('is owned by the one team its responders name (the provider’s example, the Go SDK)', async () => {
    const made = await server.call('POST', '/v2/integrations', {
      name: `No owner ${run}`,
      type: 'Grafana',
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      responders: [
        { type: 'team', id: team.id },
        { type: 'user', id: randomUUID() },
      ],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.deepEqual(made.body.data.ownerTeam, { id: team.id, name: team.name });
    const byName = await server.call('POST', '/v2/integrations', {
      name: `No owner by name ${run}`,
      type: 'API',
      responders: [{ type: 'team', name: other.name }],
    });
    assert.equal(byName.status, 201, JSON.stringify(byName.body));
    assert.equal(byName.body.data.ownerTeam.id, other.id);
  });

  it('with no team among its responders, or two, is a 422 that says what to give, in Terraform’s words too', async () => {
    for (const responders of [
      undefined,
      [{ type: 'user', id: randomUUID() }],
      [
        { type: 'team', id: team.id },
        { type: 'team', id: other.id },
      ],
    ]) {
      const made = await server.call('POST', '/v2/integrations', {
        name: `Unowned ${run}`,
        type: 'API',
        ...(responders ? { responders } : {}),
      });
      assert.equal(made.status, 422, JSON.stringify(made.body));
      assert.match(made.body.errors.ownerTeam, /owner_team_id/);
      // Counted, not named: the caller may be a key that does not reach the other team.
      assert.doesNotMatch(made.body.errors.ownerTeam, new RegExp(other.name));
    }
  });
});
