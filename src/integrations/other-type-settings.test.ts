import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * A setting of another type given a value is a 422 naming it, on every type: an API integration (and one
 * of Opsgenie's other types, which is an API one) refuses the Security Hub settings as Email and Webhook
 * integrations do, rather than answer 200 and keep none of them.
 */

let server: TestServer;
const run = randomUUID().replaceAll('-', '').slice(0, 8);
let team: { id: string; name: string };

/** A value of each Security Hub setting, as a Security Hub integration takes it. */
const SECURITY_HUB_VALUES: [string, unknown][] = [
  ['verifySignatures', false],
  ['allowedTopicArns', ['arn:aws:sns:us-east-1:123456789012:findings']],
  ['eventTypes', ['imported']],
  ['minimumSeverity', 'HIGH'],
  ['autoClose', { resolved: false }],
  ['alertOnHandledFindings', true],
  ['sendUpdatesBack', false],
  ['roleArn', 'arn:aws:iam::123456789012:role/x'],
  ['region', 'us-east-1'],
];

/** A value of each Email and Webhook setting. */
const EMAIL_AND_WEBHOOK_VALUES: [string, unknown][] = [
  ['emailUsername', `not-mine-${run}`],
  ['url', 'http://127.0.0.1:9/not-mine'],
  ['webhookUrl', 'http://127.0.0.1:9/not-mine'],
  ['addAlertDescription', false],
  ['addAlertDetails', true],
  ['headers', { 'X-Token': 'abc' }],
];

function assertRefused(answer: { status: number; body: Json }, field: string, what: string) {
  assert.equal(answer.status, 422, `${what} ${field}: ${JSON.stringify(answer.body)}`);
  assert.deepEqual(Object.keys(answer.body.errors ?? {}), [field], `${what}: ${JSON.stringify(answer.body)}`);
}

async function make(type: string, name: string, extra: Json = {}): Promise<Json> {
  return (
    await server.callOk('POST', '/v2/integrations', { type, name, ownerTeam: { id: team.id }, ...extra })
  ).data;
}

before(async () => {
  server = await startTestServer({ env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' } });
  const name = `other_type_${run}`;
  await server.callOk('POST', '/v2/teams', { name });
  team = { id: (await server.callOk('GET', `/v2/teams/${name}?identifierType=name`)).data.id, name };
});

after(() => server?.stop());

describe('settings of another type', () => {
  it("the hunter's Grafana create is a 422 naming a Security Hub field, and makes nothing", async () => {
    const name = `grafana ${run}`;
    const answer = await server.call('POST', '/v2/integrations', {
      type: 'Grafana',
      name,
      ownerTeam: { id: team.id },
      sendUpdatesBack: true,
      roleArn: 'arn:aws:iam::123456789012:role/x',
      verifySignatures: false,
    });
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    const named = Object.keys(answer.body.errors ?? {});
    assert.equal(named.length, 1, JSON.stringify(answer.body));
    assert.ok(['sendUpdatesBack', 'roleArn', 'verifySignatures'].includes(named[0]!), named[0]);
    assert.match(answer.body.errors[named[0]!], /AmazonSecurityHub/);
    const listed = (await server.callOk('GET', `/v2/integrations?teamId=${team.id}`)).data;
    assert.equal(
      listed.some((i: Json) => i.name === name),
      false,
      'no integration made',
    );
  });

  for (const type of ['API', 'Prometheus', 'Email', 'Webhook']) {
    const own = () =>
      type === 'Email'
        ? { emailUsername: `own-${randomUUID().slice(0, 8)}` }
        : type === 'Webhook'
          ? { webhookUrl: 'http://127.0.0.1:9/own' }
          : {};
    const others = [
      ...SECURITY_HUB_VALUES,
      ...EMAIL_AND_WEBHOOK_VALUES.filter(([field]) =>
        type === 'Email' ? field !== 'emailUsername' : type === 'Webhook' ? field === 'emailUsername' : true,
      ),
    ];

    it(`${type}: each field of another type given a value is a 422 naming it, on create, PATCH and PUT`, async () => {
      const name = `${type} ${run}`;
      for (const [field, value] of others) {
        const created = await server.call('POST', '/v2/integrations', {
          type,
          name: `${name} ${field}`,
          ownerTeam: { id: team.id },
          ...own(),
          [field]: value,
        });
        assertRefused(created, field, `${type} create`);
      }
      const made = await make(type, name, own());
      const before = (await server.callOk('GET', `/v2/integrations/${made.id}`)).data;
      for (const [field, value] of others) {
        assertRefused(
          await server.call('PATCH', `/v2/integrations/${made.id}`, { [field]: value }),
          field,
          `${type} PATCH`,
        );
        assertRefused(
          await server.call('PUT', `/v2/integrations/${made.id}`, { type, name, [field]: value }),
          field,
          `${type} PUT`,
        );
      }
      const after = (await server.callOk('GET', `/v2/integrations/${made.id}`)).data;
      assert.deepEqual(after, before, 'nothing changed');
    });
  }

  it('a field left out, or one of the Go SDK’s given empty, is still not given', async () => {
    const name = `Prometheus empty ${run}`;
    const made = await make('Prometheus', name, { allowDeleteAccess: false });
    const got = (await server.callOk('GET', `/v2/integrations/${made.id}`)).data;
    // What Terraform's opsgenie_api_integration sends on every type (ForceUpdateAllFields).
    const put = await server.call('PUT', `/v2/integrations/${made.id}`, {
      ...got,
      name: `${name} renamed`,
      responders: null,
      emailUsername: '',
      url: '',
      addAlertDescription: null,
      addAlertDetails: null,
      headers: null,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.data.name, `${name} renamed`);
    const patched = await server.call('PATCH', `/v2/integrations/${made.id}`, { allowDeleteAccess: true });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.data.allowDeleteAccess, true);
  });

  it('a Security Hub integration still takes its own settings', async () => {
    const hub = await make('AmazonSecurityHub', `hub ${run}`, {
      verifySignatures: false,
      minimumSeverity: 'HIGH',
      region: 'us-east-1',
    });
    assert.equal(hub.verifySignatures, false);
    assert.equal(hub.minimumSeverity, 'HIGH');
    const patched = await server.call('PATCH', `/v2/integrations/${hub.id}`, {
      alertOnHandledFindings: true,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.data.alertOnHandledFindings, true);
    assertRefused(
      await server.call('PATCH', `/v2/integrations/${hub.id}`, { emailUsername: `hub-${run}` }),
      'emailUsername',
      'AmazonSecurityHub PATCH',
    );
  });
});
