import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';
import type { Clock } from '../work/clock.js';

/**
 * VIGIL_API_RATE_LIMIT_PER_MINUTE through the real server, on a clock that stands still until the test
 * moves it: an integration's key past its burst is answered Opsgenie's 429, which
 * its SDKs wait out, and nothing of the refused request is done; the key's other domains, other keys and
 * the console's sessions are not held back by it.
 */

const PASSWORD = 'correct horse battery staple';
let server: TestServer;
// Still unless the test moves it: however slowly a busy machine runs the test, no request earns another back.
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
let integrationKey: string;

function send(method: string, path: string, key: string, body?: unknown) {
  return fetch(server.url + path, {
    method,
    headers: {
      authorization: `GenieKey ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

before(async () => {
  server = await startTestServer({
    role: 'api',
    clock,
    env: {
      // One a second, three at once.
      VIGIL_API_RATE_LIMIT_PER_MINUTE: '60',
      VIGIL_API_RATE_LIMIT_BURST: '3',
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
    },
  });
  const team = `Limited ${randomUUID().slice(0, 8)}`;
  await server.callOk('POST', '/v2/teams', { name: team });
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Sender ${team}`,
    ownerTeam: { name: team },
  });
  integrationKey = made.data.apiKey;
});

after(async () => {
  await server?.stop();
});

describe('an API key past its request rate limit', () => {
  it('is answered 429 as Opsgenie answers it, with Retry-After, and the refused alert is not made', async () => {
    for (let i = 0; i < 3; i++) {
      const created = await send('POST', '/v2/alerts', integrationKey, { message: `within ${i}` });
      assert.equal(created.status, 202, await created.text());
      assert.equal(created.headers.get('x-ratelimit-state'), 'OK');
    }
    const refused = await send('POST', '/v2/alerts', integrationKey, { message: 'one too many' });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('x-ratelimit-state'), 'THROTTLED');
    assert.equal(refused.headers.get('x-ratelimit-period-in-sec'), '60');
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = (await refused.json()) as { message: string; requestId: string };
    assert.match(body.message, /more than 60 alert requests a minute .*try again in 1 s/);
    assert.ok(body.requestId);
    const count = await server.callOk(
      'GET',
      `/v2/alerts/count?query=${encodeURIComponent('message:"one too many"')}`,
    );
    assert.equal(count.data.count, 0);
  });

  it("holds back only that key's domain: its searches, other keys and console sessions go on", async () => {
    const search = await send('GET', '/v2/alerts', integrationKey);
    assert.equal(search.status, 200, await search.text());
    const byOtherKey = await send('POST', '/v2/alerts', server.key, { message: 'another key' });
    assert.equal(byOtherKey.status, 202);

    const signIn = await fetch(`${server.url}/api/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@example.com', password: PASSWORD }),
    });
    assert.equal(signIn.status, 200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    for (let i = 0; i < 6; i++) {
      const listed = await fetch(`${server.url}/v2/alerts`, { headers: { cookie } });
      assert.equal(listed.status, 200);
    }
  });

  it('is let through again once the steady rate has brought back a request', async () => {
    assert.equal((await send('POST', '/v2/alerts', integrationKey, { message: 'still early' })).status, 429);
    at = new Date(at.getTime() + 1000);
    assert.equal((await send('POST', '/v2/alerts', integrationKey, { message: 'on time' })).status, 202);
    assert.equal((await send('POST', '/v2/alerts', integrationKey, { message: 'early again' })).status, 429);
  });
});
