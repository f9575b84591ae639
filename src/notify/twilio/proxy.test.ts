import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeTwilio, type FakeTwilio } from '../../testing/fake-twilio.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { proxiedHost, type ProxiedHost } from '../../testing/network.js';

/**
 * Texts go to Twilio through HTTPS_PROXY: Twilio's real host name over https, tunnelled by the proxy to
 * a local TLS front of the fake Twilio.
 */

const TWILIO_HOST = 'api.twilio.com';
const ACCOUNT_SID = 'AC00000000000000000000000000000001';
const AUTH_TOKEN = 'proxy-test-auth-token';
const FROM = '+15005550006';

let twilio: FakeTwilio;
let tunnel: ProxiedHost;
let server: TestServer;

before(async () => {
  twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, numbers: [FROM] });
  tunnel = await proxiedHost(TWILIO_HOST, Number(new URL(twilio.url).port));
  server = await startTestServer({
    env: {
      VIGIL_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      VIGIL_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      VIGIL_TWILIO_FROM: FROM,
      VIGIL_TWILIO_API_URL: `https://${TWILIO_HOST}`,
    },
    outbound: tunnel.outbound,
  });
});

after(async () => {
  await server?.stop();
  await tunnel?.close();
  await twilio?.close();
});

describe('Twilio through a proxy', () => {
  it('texts a verification code to Twilio through HTTPS_PROXY', async () => {
    const user = 'proxied-sms@example.com';
    await server.callOk('POST', '/v2/users', { username: user, fullName: 'Proxied', role: { name: 'User' } });
    const contact = await server.callOk('POST', `/v2/users/${user}/contacts`, {
      method: 'sms',
      to: '+14155550199',
    });
    const sent = await server.call('POST', `/v2/users/${user}/contacts/${contact.data.id}/send-verification`);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const [text] = await twilio.waitForMessages(1);
    assert.equal(text?.to, '+14155550199');
    assert.match(text?.body ?? '', /code is \d{6}/);
    assert.deepEqual([...new Set(tunnel.proxy.connects.map((c) => c.target))], [`${TWILIO_HOST}:443`]);
  });
});
