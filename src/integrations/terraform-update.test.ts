import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * Opsgenie's Terraform provider (opsgenie/terraform-provider-opsgenie) updates opsgenie_api_integration and
 * opsgenie_email_integration through the Go SDK's ForceUpdateAllFields: one map holding the integration as
 * GET answered it (the API resource; the Email resource starts from an empty map), overwritten with the
 * provider's fields and, whatever the type, emailUsername, url, addAlertDescription, addAlertDetails and
 * headers, empty when not the integration's own. opsgenie_api_integration with type = "Webhook" creates
 * through integration.WebhookIntegrationRequest (the URL under `url`, allowWriteAccess always, the payload
 * flags as null *bool) and reads back url, allowWriteAccess and headers. Each test sends the exact bodies.
 */

let server: TestServer;
const run = randomUUID().replaceAll('-', '').slice(0, 8);
let team: { id: string; name: string };

/** One request as the Go SDK's client makes it. */
async function goSdk(method: string, path: string, body?: Json): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = {
    Authorization: `GenieKey ${server.key}`,
    Accept: 'application/json',
    'User-Agent': 'opsgenie-go-sdk-2.0.0 go1.22.5 (linux/amd64)',
  };
  let payload: string | undefined;
  if (method === 'GET' || method === 'DELETE') headers['Content-Type'] = '';
  else {
    headers['Content-Type'] = 'application/json; charset=utf-8';
    payload = `${JSON.stringify(body ?? {})}\n`;
  }
  const response = await fetch(server.url + path, { method, headers, body: payload });
  const text = await response.text();
  let parsed: Json = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the failure message
  }
  return { status: response.status, body: parsed };
}

async function goSdkOk(method: string, path: string, body?: Json): Promise<Json> {
  const answer = await goSdk(method, path, body);
  assert.ok(
    answer.status < 400,
    `${method} ${path} ${JSON.stringify(body ?? '')} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
  );
  return answer.body;
}

/** What resourceOpsgenieApiIntegrationRead copies into the state (url and headers only when not nil). */
async function apiResourceRead(id: string) {
  const data = (await goSdkOk('GET', `/v2/integrations/${id}`)).data;
  return {
    owner_team_id: data.ownerTeam?.id,
    name: data.name,
    type: data.type,
    allow_write_access: data.allowWriteAccess,
    enabled: data.enabled,
    suppress_notifications: data.suppressNotifications,
    ...(data.url !== undefined && data.url !== null ? { webhook_url: data.url } : {}),
    ...(data.headers !== undefined && data.headers !== null ? { headers: data.headers } : {}),
  };
}

/**
 * resourceOpsgenieApiIntegrationUpdate: GET, allowWriteAccess from the state, then ForceUpdateAllFields
 * sets its fields over that map (responders: expandOpsgenieIntegrationResponders of none is a nil slice).
 */
async function apiResourceUpdate(
  id: string,
  state: {
    name: string;
    type: string;
    allowWriteAccess: boolean;
    enabled: boolean;
    suppressNotifications: boolean;
    webhookUrl?: string;
    headers?: Record<string, string>;
  },
) {
  const got = (await goSdkOk('GET', `/v2/integrations/${id}`)).data;
  return goSdk('PUT', `/v2/integrations/${id}`, {
    ...got,
    allowWriteAccess: state.allowWriteAccess,
    id,
    name: state.name,
    type: state.type,
    enabled: state.enabled,
    ignoreRespondersFromPayload: false,
    suppressNotifications: state.suppressNotifications,
    responders: null,
    emailUsername: '',
    url: state.webhookUrl ?? '',
    addAlertDescription: null,
    addAlertDetails: null,
    headers: state.headers ?? {},
  });
}

before(async () => {
  server = await startTestServer({ env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' } });
  const name = `tf_${run}`;
  await goSdkOk('POST', '/v2/teams', { name });
  team = { id: (await goSdkOk('GET', `/v2/teams/${name}?identifierType=name`)).data.id, name };
});

after(async () => {
  await server?.stop();
});

describe("Terraform's integration updates (ForceUpdateAllFields) and Webhook creates", () => {
  it('opsgenie_api_integration: an update of an API integration answers 200 and reads back as applied', async () => {
    const made = await goSdkOk('POST', '/v2/integrations', {
      name: `api ${run}`,
      type: 'API',
      allowWriteAccess: true,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      ownerTeam: { id: team.id },
      responders: [{ type: 'team', id: team.id }],
    });
    const id = made.data.id;
    await goSdkOk('POST', `/v2/integrations/${id}/enable`, {});
    const state = {
      name: `api ${run} renamed`,
      type: 'API',
      allowWriteAccess: false,
      enabled: true,
      suppressNotifications: true,
    };
    const put = await apiResourceUpdate(id, state);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(await apiResourceRead(id), {
      owner_team_id: team.id,
      name: state.name,
      type: 'API',
      allow_write_access: false,
      enabled: true,
      suppress_notifications: true,
    });
  });

  it('opsgenie_email_integration: an update answers 200 and reads back as applied', async () => {
    const emailUsername = `tf-mail-${run}`;
    const made = await goSdkOk('POST', '/v2/integrations', {
      name: `mail ${run}`,
      type: 'Email',
      emailUsername,
      ignoreRespondersFromPayload: false,
      suppressNotifications: false,
      ownerTeam: { id: team.id },
    });
    const id = made.data.id;
    // resourceOpsgenieEmailIntegrationUpdate: ForceUpdateAllFields over an empty map; no headers is nil.
    const put = await goSdk('PUT', `/v2/integrations/${id}`, {
      id,
      name: `mail ${run} renamed`,
      type: 'Email',
      enabled: false,
      ignoreRespondersFromPayload: false,
      suppressNotifications: true,
      responders: null,
      emailUsername,
      url: '',
      addAlertDescription: null,
      addAlertDetails: null,
      headers: null,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const data = (await goSdkOk('GET', `/v2/integrations/${id}`)).data;
    assert.deepEqual(
      {
        owner_team_id: data.ownerTeam?.id,
        name: data.name,
        suppress_notifications: data.suppressNotifications,
        email_username: data.emailUsername,
        enabled: data.enabled,
      },
      {
        owner_team_id: team.id,
        name: `mail ${run} renamed`,
        suppress_notifications: true,
        email_username: emailUsername,
        enabled: false,
      },
    );
  });

  it('opsgenie_api_integration type Webhook: created as the SDK sends it, read back, and updated', async () => {
    const url = 'http://127.0.0.1:9/tf-hook';
    const made = await goSdk('POST', '/v2/integrations', {
      name: `hook ${run}`,
      type: 'Webhook',
      allowWriteAccess: false,
      suppressNotifications: false,
      ownerTeam: { id: team.id },
      url,
      addAlertDescription: null,
      addAlertDetails: null,
      headers: { 'X-Token': 'abc' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.data.id;
    await goSdkOk('POST', `/v2/integrations/${id}/enable`, {});
    assert.deepEqual(await apiResourceRead(id), {
      owner_team_id: team.id,
      name: `hook ${run}`,
      type: 'Webhook',
      allow_write_access: false,
      enabled: true,
      suppress_notifications: false,
      webhook_url: url,
      headers: { 'X-Token': 'abc' },
    });
    const got = (await goSdkOk('GET', `/v2/integrations/${id}`)).data;
    // Null flags are not given: Opsgenie's defaults.
    assert.deepEqual([got.webhookUrl, got.addAlertDescription, got.addAlertDetails], [url, true, true]);

    // An update: GET's webhookUrl (the URL now) goes back beside the state's url, the change.
    const moved = 'http://127.0.0.1:9/tf-hook-moved';
    const state = {
      name: `hook ${run} renamed`,
      type: 'Webhook',
      allowWriteAccess: true,
      enabled: true,
      suppressNotifications: true,
      webhookUrl: moved,
      headers: { 'X-Token': 'def' },
    };
    const put = await apiResourceUpdate(id, state);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(await apiResourceRead(id), {
      owner_team_id: team.id,
      name: state.name,
      type: 'Webhook',
      allow_write_access: true,
      enabled: true,
      suppress_notifications: true,
      webhook_url: moved,
      headers: { 'X-Token': 'def' },
    });
    const after = (await goSdkOk('GET', `/v2/integrations/${id}`)).data;
    assert.deepEqual(
      [after.webhookUrl, after.addAlertDescription, after.addAlertDetails],
      [moved, true, true],
    );

    // An update that changes nothing: both names give the URL now.
    const same = await apiResourceUpdate(id, state);
    assert.equal(same.status, 200, JSON.stringify(same.body));
    assert.equal((await apiResourceRead(id)).webhook_url, moved);
  });

  it('still refuses a field of another type given a value, and url against another webhookUrl', async () => {
    const api = (
      await goSdkOk('POST', '/v2/integrations', {
        name: `strict api ${run}`,
        type: 'API',
        ownerTeam: { id: team.id },
      })
    ).data.id;
    const base = { id: api, name: `strict api ${run}`, type: 'API', enabled: true };
    for (const [field, value] of [
      ['emailUsername', `not-mine-${run}`],
      ['url', 'http://127.0.0.1:9/not-mine'],
      ['webhookUrl', 'http://127.0.0.1:9/not-mine'],
      ['addAlertDescription', false],
      ['addAlertDetails', true],
      ['headers', { 'X-Token': 'abc' }],
    ] as const) {
      const answer = await goSdk('PUT', `/v2/integrations/${api}`, { ...base, [field]: value });
      assert.equal(answer.status, 422, `${field}: ${JSON.stringify(answer.body)}`);
      assert.ok(answer.body.errors?.[field], `${field}: ${JSON.stringify(answer.body)}`);
    }

    const emailUsername = `strict-${run}`;
    const mail = (
      await goSdkOk('POST', '/v2/integrations', {
        name: `strict mail ${run}`,
        type: 'Email',
        emailUsername,
        ownerTeam: { id: team.id },
      })
    ).data.id;
    const emptied = await goSdk('PUT', `/v2/integrations/${mail}`, {
      id: mail,
      name: `strict mail ${run}`,
      type: 'Email',
      emailUsername: '',
    });
    assert.equal(emptied.status, 422, JSON.stringify(emptied.body));
    assert.ok(emptied.body.errors?.emailUsername, JSON.stringify(emptied.body));
    const bad = await goSdk('PUT', `/v2/integrations/${mail}`, { emailUsername: 'Bad<addr>' });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.equal((await goSdkOk('GET', `/v2/integrations/${mail}`)).data.emailUsername, emailUsername);

    const hook = {
      name: `strict hook ${run}`,
      type: 'Webhook',
      ownerTeam: { id: team.id },
    };
    const both = await goSdk('POST', '/v2/integrations', {
      ...hook,
      url: 'http://127.0.0.1:9/a',
      webhookUrl: 'http://127.0.0.1:9/b',
    });
    assert.equal(both.status, 422, JSON.stringify(both.body));
    assert.ok(both.body.errors?.url, JSON.stringify(both.body));
    const readAccess = await goSdk('POST', '/v2/integrations', {
      ...hook,
      url: 'http://127.0.0.1:9/a',
      allowReadAccess: true,
    });
    assert.equal(readAccess.status, 422, JSON.stringify(readAccess.body));
    const made = await goSdkOk('POST', '/v2/integrations', { ...hook, url: 'http://127.0.0.1:9/a' });
    const id = made.data.id;
    assert.equal(made.data.allowWriteAccess, true, 'default true');
    const neither = await goSdk('PUT', `/v2/integrations/${id}`, {
      url: 'http://127.0.0.1:9/c',
      webhookUrl: 'http://127.0.0.1:9/d',
    });
    assert.equal(neither.status, 422, JSON.stringify(neither.body));
    const kept = await goSdk('PUT', `/v2/integrations/${id}`, {
      url: 'http://127.0.0.1:9/a',
      webhookUrl: 'http://127.0.0.1:9/e',
    });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    assert.equal(
      kept.body.data.webhookUrl,
      'http://127.0.0.1:9/e',
      'url echoing the URL now: webhookUrl changes',
    );
    // A URL the destination refuses is refused under either name.
    const refused = await goSdk('PUT', `/v2/integrations/${id}`, { url: 'https://10.1.2.3/hook' });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
  });
});
