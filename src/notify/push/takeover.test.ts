import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakePushService, type FakePushService } from '../../testing/fake-push.js';
import {
  addOrganization,
  addUserWithKey,
  startTestServer,
  type Json,
  type TestServer,
} from '../../testing/harness.js';

/**
 * A browser another person subscribed moves to the caller only when it is that browser, signed in as the
 * caller: it posts its subscription again with the same keys. Knowing the endpoint is not enough (it can
 * leak), and another organization's device never moves: its person would stop being paged, unaware.
 */

let server: TestServer;
let fake: FakePushService;
let publicKey: string;
const run = randomUUID().slice(0, 8);

const subscribe = (body: Json, key: string) =>
  server.call('POST', '/api/console/push/subscriptions', body, key);
const devices = async (key: string) =>
  (await server.call('GET', '/api/console/push/subscriptions', undefined, key)).body.data as Json[];
const mobiles = async (username: string) =>
  ((await server.callOk('GET', `/v2/users/${username}/contacts`)).data as Json[]).filter(
    (c) => c.method === 'mobile',
  );

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({ env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' } });
  publicKey = (await server.callOk('GET', '/api/console/push/key')).publicKey as string;
});

after(async () => {
  await server?.stop();
  await fake?.close();
});

describe("subscribing another person's endpoint", () => {
  it('is refused with other keys, and the device stays its person’s', async () => {
    const lee = await addUserWithKey(server, 'lee', run);
    const max = await addUserWithKey(server, 'max', run);
    const lees = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await subscribe({ ...lees, deviceName: 'Lee phone' }, lee.key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const leeBefore = await mobiles(lee.username);

    const other = fake.newSubscription({ applicationServerKey: publicKey });
    const taken = await subscribe({ endpoint: lees.endpoint, keys: other.keys, deviceName: 'Max' }, max.key);
    assert.equal(taken.status, 409, JSON.stringify(taken.body));
    assert.match(taken.body.message, /belongs to another user/);

    const leeNow = await devices(lee.key);
    assert.deepEqual(
      leeNow.map((d) => [d.id, d.deviceName]),
      [[made.body.id, 'Lee phone']],
    );
    assert.deepEqual(await mobiles(lee.username), leeBefore);
    assert.deepEqual(await devices(max.key), []);
    assert.deepEqual(await mobiles(max.username), []);
    // Still Lee's, with Lee's keys: a test push reaches (and decrypts on) Lee's browser.
    await server.callOk('POST', `/v2/users/${lee.username}/contacts/${leeBefore[0]!.id}/test`);
    assert.equal(fake.received(lees.endpoint).length, 1);
  });

  it('moves the device with the same keys: the same browser, signed in as someone else', async () => {
    const ana = await addUserWithKey(server, 'ana', run);
    const bo = await addUserWithKey(server, 'bo', run);
    const browser = fake.newSubscription({ applicationServerKey: publicKey });
    const first = await subscribe({ ...browser, deviceName: 'Shared laptop' }, ana.key);
    assert.equal(first.status, 201, JSON.stringify(first.body));

    const moved = await subscribe({ ...browser, deviceName: 'Shared laptop' }, bo.key);
    assert.equal(moved.status, 201, JSON.stringify(moved.body));
    assert.deepEqual(await devices(ana.key), []);
    assert.deepEqual(await mobiles(ana.username), []);
    assert.deepEqual(
      (await devices(bo.key)).map((d) => d.id),
      [moved.body.id],
    );
    assert.equal((await mobiles(bo.username)).length, 1);
  });

  it("is refused for another organization's device, even with the same keys", async () => {
    const kai = await addUserWithKey(server, 'kai', run);
    const kais = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await subscribe({ ...kais, deviceName: 'Kai phone' }, kai.key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const elsewhere = await addOrganization(server, `Elsewhere ${run}`);

    for (const keys of [kais.keys, fake.newSubscription({ applicationServerKey: publicKey }).keys]) {
      const taken = await subscribe({ endpoint: kais.endpoint, keys }, elsewhere.key);
      assert.equal(taken.status, 409, JSON.stringify(taken.body));
    }
    assert.deepEqual(
      (await devices(kai.key)).map((d) => [d.id, d.deviceName]),
      [[made.body.id, 'Kai phone']],
    );
    assert.equal((await mobiles(kai.username)).length, 1);
    assert.deepEqual(await devices(elsewhere.key), []);
  });
});
