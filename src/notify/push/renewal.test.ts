import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakePushService, type FakePushService } from '../../testing/fake-push.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A browser renews a device's subscription (pushsubscriptionchange), normally with a new endpoint, and the
 * old one soon answers 410, which removes its contact and steps. The service worker names the old endpoint,
 * and one of the caller's own devices moves to the new one in place, even for a person whose role takes
 * contacts-edit away: otherwise their push pages would stop with nobody able to put them back.
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

async function withoutContactsEdit(username: string): Promise<void> {
  const name = `No contacts-edit ${username}`.slice(0, 100);
  await server.callOk('POST', '/v2/roles', {
    name,
    extendedRole: 'user',
    grantedRights: [],
    disallowedRights: ['contacts-edit', 'notification-rules-edit'],
  });
  await server.callOk('PATCH', `/v2/users/${username}`, { role: { name } });
}

const subscribe = (body: Json, key: string) =>
  server.call('POST', '/api/console/push/subscriptions', body, key);
const devices = async (key: string) =>
  (await server.call('GET', '/api/console/push/subscriptions', undefined, key)).body.data as Json[];

async function contacts(username: string): Promise<Json[]> {
  return (await server.callOk('GET', `/v2/users/${username}/contacts`)).data as Json[];
}

async function steps(username: string): Promise<Json[]> {
  const rules = await server.callOk('GET', `/v2/users/${username}/notification-rules`);
  const rule = await server.callOk('GET', `/v2/users/${username}/notification-rules/${rules.data[0].id}`);
  return rule.data.steps as Json[];
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

describe('a renewed subscription (pushsubscriptionchange)', () => {
  it("moves the caller's device to the new endpoint, without contacts-edit", async () => {
    const ivy = await userWithKey('ivy', 'User');
    const first = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await subscribe({ ...first, deviceName: 'Phone' }, ivy.key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await withoutContactsEdit(ivy.username);
    const contactsBefore = await contacts(ivy.username);
    const stepsBefore = await steps(ivy.username);
    const mobile = contactsBefore.find((c) => c.method === 'mobile');
    assert.ok(mobile, JSON.stringify(contactsBefore));

    // Without the old endpoint it is a new device, which this role may not add.
    const renewed = fake.newSubscription({ applicationServerKey: publicKey });
    const unnamed = await subscribe({ ...renewed, deviceName: 'Phone' }, ivy.key);
    assert.equal(unnamed.status, 403, JSON.stringify(unnamed.body));

    // The new endpoint is checked as a new subscription's: an allowed push service, no credentials.
    const elsewhere = await subscribe(
      { ...renewed, endpoint: 'https://attacker.example/push/1', oldEndpoint: first.endpoint },
      ivy.key,
    );
    assert.equal(elsewhere.status, 422, JSON.stringify(elsewhere.body));
    const withUser = new URL(renewed.endpoint);
    withUser.username = 'someone';
    const credentials = await subscribe(
      { ...renewed, endpoint: withUser.toString(), oldEndpoint: first.endpoint },
      ivy.key,
    );
    assert.equal(credentials.status, 422, JSON.stringify(credentials.body));

    const moved = await subscribe({ ...renewed, deviceName: 'Phone', oldEndpoint: first.endpoint }, ivy.key);
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    assert.equal(moved.body.id, made.body.id);
    assert.deepEqual(
      (await devices(ivy.key)).map((d) => d.id),
      [made.body.id],
    );
    assert.deepEqual(await contacts(ivy.username), contactsBefore);
    assert.deepEqual(await steps(ivy.username), stepsBefore);

    // The same contact method now reaches the new endpoint, and the old one being gone removes nothing.
    fake.gone(first.endpoint);
    await server.callOk('POST', `/v2/users/${ivy.username}/contacts/${mobile.id}/test`);
    assert.equal(fake.received(renewed.endpoint).length, 1);
    assert.equal(fake.received(first.endpoint).length, 0);
    assert.deepEqual(await contacts(ivy.username), contactsBefore);
  });

  it("does not take over someone else's device, nor change it", async () => {
    const jo = await userWithKey('jo', 'User');
    const kim = await userWithKey('kim', 'User');
    const kims = fake.newSubscription({ applicationServerKey: publicKey });
    const kimsDevice = await subscribe({ ...kims, deviceName: 'Kim phone' }, kim.key);
    assert.equal(kimsDevice.status, 201, JSON.stringify(kimsDevice.body));
    await withoutContactsEdit(jo.username);
    const joBefore = await contacts(jo.username);
    const kimBefore = await contacts(kim.username);

    const taken = await subscribe(
      {
        ...fake.newSubscription({ applicationServerKey: publicKey }),
        deviceName: 'Jo phone',
        oldEndpoint: kims.endpoint,
      },
      jo.key,
    );
    assert.equal(taken.status, 403, JSON.stringify(taken.body));
    assert.match(taken.body.message, /lacks the contacts-edit right/);
    assert.deepEqual(await contacts(jo.username), joBefore);
    assert.deepEqual(await contacts(kim.username), kimBefore);
    const kimsNow = await devices(kim.key);
    assert.equal(kimsNow.length, 1);
    assert.equal(kimsNow[0]!.id, kimsDevice.body.id);
    assert.equal(kimsNow[0]!.deviceName, 'Kim phone');
    // Kim's device still answers to Kim's endpoint.
    const kimsMobile = kimBefore.find((c) => c.method === 'mobile');
    assert.ok(kimsMobile, JSON.stringify(kimBefore));
    await server.callOk('POST', `/v2/users/${kim.username}/contacts/${kimsMobile.id}/test`);
    assert.equal(fake.received(kims.endpoint).length, 1);
  });
});
