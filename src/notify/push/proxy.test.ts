import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakePushService, type FakePushService } from '../../testing/fake-push.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { proxiedHost, type ProxiedHost } from '../../testing/network.js';
import type { PushPayload } from './channel.js';

/**
 * Pushes go to the push service through HTTPS_PROXY: a subscription on fcm.googleapis.com, reached over
 * https through a CONNECT proxy and a TLS front of the fake push service, which checks the VAPID token
 * (its audience is the real origin) and decrypts the payload as the browser would.
 */

const PUSH_HOST = 'fcm.googleapis.com';
const run = randomUUID().slice(0, 8);
const person = `proxied-push-${run}@example.com`;
const team = `Proxied pushes ${run}`;

let fake: FakePushService;
let tunnel: ProxiedHost;
let server: TestServer;

const call = (method: string, path: string, body?: unknown, key?: string): Promise<Json> =>
  server.callOk(method, path, body, key);

before(async () => {
  fake = await startFakePushService({ origin: `https://${PUSH_HOST}` });
  tunnel = await proxiedHost(PUSH_HOST, Number(new URL(fake.listening).port));
  server = await startTestServer({
    engineIntervalMs: 100,
    outbound: tunnel.outbound,
  });
});

after(async () => {
  await server?.stop();
  await tunnel?.close();
  await fake?.close();
});

describe('Web Push through a proxy', () => {
  it("pushes an alert to a device's push service through HTTPS_PROXY", async () => {
    const user = await call('POST', '/v2/users', {
      username: person,
      fullName: 'Proxied',
      role: { name: 'User' },
    });
    const userKey = (await call('POST', '/v2/api-keys', { name: 'phone', user: { id: user.data.id } })).data
      .key as string;
    await call('POST', '/v2/teams', { name: team, members: [{ user: { username: person }, role: 'user' }] });
    const { publicKey } = await call('GET', '/api/console/push/key', undefined, userKey);
    const sub = fake.newSubscription({ applicationServerKey: publicKey as string });
    assert.ok(sub.endpoint.startsWith(`https://${PUSH_HOST}/`), sub.endpoint);
    await call('POST', '/api/console/push/subscriptions', { ...sub, deviceName: 'Proxied phone' }, userKey);

    await call('POST', '/v2/alerts', {
      message: `Through the proxy ${run}`,
      priority: 'P1',
      responders: [{ type: 'team', name: team }],
    });
    const push = await waitFor('the push', async () => fake.received(sub.endpoint)[0]);
    assert.equal((push.json as PushPayload).title, `[P1] Through the proxy ${run}`);
    assert.deepEqual(fake.refused, []);
    assert.deepEqual([...new Set(tunnel.proxy.connects.map((c) => c.target))], [`${PUSH_HOST}:443`]);
  });
});
