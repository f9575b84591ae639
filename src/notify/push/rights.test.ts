import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakePushService, type FakePushService } from '../../testing/fake-push.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A device is a contact method, and its first subscription a step of a notification rule: subscribing and
 * removing one answer to the same rights as POST and DELETE /v2/users/{id}/contacts and the rule API, so
 * a custom role that takes them away is not got round through the console's push API.
 */

let server: TestServer;
let fake: FakePushService;
let publicKey: string;
const run = randomUUID().slice(0, 8);

async function userWithKey(local: string, role: string): Promise<{ username: string; key: string }> {
  const username = `${local}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: local, role: { name: role } });
  const key = await server.callOk('POST', '/v2/api-keys', { name: `${local} key`, user: { username } });
  return { username, key: key.data.key as string };
}

async function giveRole(username: string, disallowedRights: string[]): Promise<void> {
  const name = `No ${disallowedRights.join(' ')} ${username}`.slice(0, 100);
  await server.callOk('POST', '/v2/roles', {
    name,
    extendedRole: 'user',
    grantedRights: [],
    disallowedRights,
  });
  await server.callOk('PATCH', `/v2/users/${username}`, { role: { name } });
}

const subscribe = (body: Json, key?: string) =>
  server.call('POST', '/api/console/push/subscriptions', body, key);

async function stepsOfFirstRule(username: string): Promise<Json[]> {
  const rules = await server.callOk('GET', `/v2/users/${username}/notification-rules`);
  const rule = await server.callOk('GET', `/v2/users/${username}/notification-rules/${rules.data[0].id}`);
  return rule.data.steps as Json[];
}

async function methods(username: string): Promise<string[]> {
  const contacts = await server.callOk('GET', `/v2/users/${username}/contacts`);
  return (contacts.data as Json[]).map((c) => c.method as string).sort();
}

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({ env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' } });
  publicKey = (await server.callOk('GET', '/api/console/push/key')).publicKey as string;
});

after(async () => {
  await server?.stop();
  await fake?.close();
});

describe('a custom role without contacts-edit', () => {
  it('subscribes no new device and removes none, though a device already theirs still gets new keys', async () => {
    const grace = await userWithKey('grace', 'User');
    const kept = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await subscribe({ ...kept, deviceName: 'Phone' }, grace.key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await giveRole(grace.username, ['contacts-edit', 'notification-rules-edit']);
    const contactsBefore = await methods(grace.username);
    const stepsBefore = await stepsOfFirstRule(grace.username);

    const refused = await subscribe(
      { ...fake.newSubscription({ applicationServerKey: publicKey }), deviceName: 'Laptop' },
      grace.key,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /lacks the contacts-edit right/);
    assert.deepEqual(await methods(grace.username), contactsBefore);
    assert.deepEqual(await stepsOfFirstRule(grace.username), stepsBefore);

    // The same device subscribing again (new keys, as after pushsubscriptionchange) keeps working.
    const again = await subscribe({ ...kept, deviceName: 'Phone' }, grace.key);
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.id, made.body.id);

    const removed = await server.call(
      'DELETE',
      `/api/console/push/subscriptions/${made.body.id}`,
      undefined,
      grace.key,
    );
    assert.equal(removed.status, 403, JSON.stringify(removed.body));
    assert.match(removed.body.message, /lacks the contacts-edit right/);
    assert.deepEqual(await methods(grace.username), contactsBefore);
    // An org admin still removes it.
    await server.callOk('DELETE', `/api/console/push/subscriptions/${made.body.id}`);
    assert.ok(!(await methods(grace.username)).includes('mobile'));
  });
});

describe('a custom role without notification-rules-edit', () => {
  it('subscribes a device without adding it to a rule', async () => {
    const hal = await userWithKey('hal', 'User');
    await giveRole(hal.username, ['notification-rules-edit']);
    const stepsBefore = await stepsOfFirstRule(hal.username);
    const made = await subscribe(
      { ...fake.newSubscription({ applicationServerKey: publicKey }), deviceName: 'Phone' },
      hal.key,
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.ok((await methods(hal.username)).includes('mobile'));
    assert.deepEqual(await stepsOfFirstRule(hal.username), stepsBefore);
  });
});

describe("an owner's device", () => {
  it('is removed by an owner, not by an admin', async () => {
    const olive = await userWithKey('olive', 'Owner');
    const adam = await userWithKey('adam', 'Admin');
    const made = await subscribe(
      { ...fake.newSubscription({ applicationServerKey: publicKey }), deviceName: 'Phone' },
      olive.key,
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const path = `/api/console/push/subscriptions/${made.body.id}`;
    const byAdmin = await server.call('DELETE', path, undefined, adam.key);
    assert.equal(byAdmin.status, 403, JSON.stringify(byAdmin.body));
    assert.ok((await methods(olive.username)).includes('mobile'));
    // The test server's own key is an owner's.
    await server.callOk('DELETE', path);
    assert.ok(!(await methods(olive.username)).includes('mobile'));
  });
});
