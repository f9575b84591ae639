import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';
import type { Clock } from '../work/clock.js';

/**
 * A reverse proxy that signs people in itself (oauth2-proxy with --pass-authorization-header, Pomerium's
 * set_authorization_header, a Traefik forward-auth) passes its own `Authorization: Bearer <token>` on to
 * Vigil with every request the console makes: a Bearer that is none of Vigil's keys must not hide the
 * console's cookie, while a Bearer that is a key still says who calls.
 */

const PASSWORD = 'correct horse battery staple';
// Still: no request earns the rate limit's tokens back, however slowly the test runs.
const at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
let server: TestServer;
let cookie = '';
let csrf = '';

async function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : text };
}

before(async () => {
  server = await startTestServer({
    role: 'api',
    clock,
    env: {
      // Three requests at once per key: the console's requests behind the proxy must not count as a key's.
      VIGIL_API_RATE_LIMIT_PER_MINUTE: '60',
      VIGIL_API_RATE_LIMIT_BURST: '3',
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
    },
  });
  const res = await fetch(`${server.url}/api/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'owner@example.com', password: PASSWORD }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  csrf = ((await res.json()) as Json).csrfToken;
  assert.ok(cookie && csrf);
});

after(async () => {
  await server?.stop();
});

describe("a proxy's Bearer token in front of the console", () => {
  it('does not hide the session cookie: the console works, as its signed-in person', async () => {
    const proxied = { cookie, authorization: `Bearer ${randomUUID()}` };
    const session = await send('GET', '/api/console/session', proxied);
    assert.equal(session.status, 200, JSON.stringify(session.body));
    assert.equal(session.body.user.username, 'owner@example.com');
    assert.equal(session.body.csrfToken, csrf, "the cookie's session, with its CSRF token");
    // More than the key rate limit's burst: the cookie's requests are a person's, not a key's.
    for (let i = 0; i < 5; i++) {
      const listed = await send('GET', '/v2/teams', proxied);
      assert.equal(listed.status, 200, `request ${i}: ${JSON.stringify(listed.body)}`);
    }
  });

  it("still needs the session's CSRF token to change something", async () => {
    const proxied = { cookie, authorization: `Bearer ${randomUUID()}` };
    const name = `Proxied ${randomUUID().slice(0, 8)}`;
    const refused = await send('POST', '/v2/teams', proxied, { name });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /CSRF token/);
    const made = await send('POST', '/v2/teams', { ...proxied, 'x-csrf-token': csrf }, { name });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });

  it('takes a Bearer that is a Vigil key over the cookie, as before', async () => {
    const user = await server.callOk('POST', '/v2/users', {
      username: `sender-${randomUUID().slice(0, 8)}@example.com`,
      fullName: 'Sender',
      role: { name: 'User' },
    });
    const key = await server.callOk('POST', '/v2/api-keys', {
      name: 'sender key',
      user: { id: user.data.id },
    });
    const asKey = await send('GET', '/api/console/session', {
      cookie,
      authorization: `Bearer ${key.data.key}`,
    });
    assert.equal(asKey.status, 200, JSON.stringify(asKey.body));
    assert.equal(asKey.body.user.username, user.data.username);
    assert.equal(asKey.body.csrfToken, '', 'a key has no CSRF token');
  });

  it('answers 401 for an unknown GenieKey, with or without the cookie, and for an unknown Bearer alone', async () => {
    const unknown = randomUUID();
    const refused: Record<string, string>[] = [
      { authorization: `GenieKey ${unknown}` },
      { authorization: `GenieKey ${unknown}`, cookie },
      { authorization: `Bearer ${unknown}` },
    ];
    for (const headers of refused) {
      const answer = await send('GET', '/api/console/session', headers);
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.match(answer.body.message, /API key is unknown or has been deleted/);
    }
  });

  it('answers an unknown Bearer with an ended session as the ended session', async () => {
    const ended = { cookie: 'vigil_session=not-a-session-of-vigil', authorization: `Bearer ${randomUUID()}` };
    const answer = await send('GET', '/api/console/session', ended);
    assert.equal(answer.status, 401);
    assert.match(answer.body.message, /console session has ended/);
  });
});
