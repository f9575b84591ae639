import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialOf } from './server.js';
import { SESSION_COOKIE } from './session-cookie.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const token = 'a-session-token-of-the-console';
const cookie = `${SESSION_COOKIE}=${token}`;

describe('what a request authenticates with', () => {
  it('takes the key of GenieKey, Bearer and Basic (the password) when there is no session cookie', () => {
    assert.deepEqual(credentialOf({ authorization: 'GenieKey k1' }), { key: 'k1' });
    assert.deepEqual(credentialOf({ authorization: 'Bearer k2' }), { key: 'k2' });
    assert.deepEqual(credentialOf({ authorization: basic('', 'k3') }), { key: 'k3' });
  });

  it("takes the console's cookie over Basic credentials, which a proxy's own sign-in passes on", () => {
    assert.deepEqual(credentialOf({ authorization: basic('alice', 'proxy-password'), cookie }), {
      sessionToken: token,
    });
    assert.deepEqual(credentialOf({ authorization: ' basic Zm9vOmJhcg==', cookie }), {
      sessionToken: token,
    });
  });

  it('takes a GenieKey key over the cookie: a key is named on purpose', () => {
    assert.deepEqual(credentialOf({ authorization: 'GenieKey k1', cookie }), { key: 'k1' });
  });

  it("keeps the cookie with a Bearer token, which a proxy's OAuth sign-in passes on: the key if it is one", () => {
    assert.deepEqual(credentialOf({ authorization: 'Bearer k2', cookie }), {
      key: 'k2',
      sessionToken: token,
    });
  });
});
