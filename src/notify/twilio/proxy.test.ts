import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeTwilio, type FakeTwilio } from '../../testing/fake-twilio.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import {
  makeTestCertificate,
  startConnectProxy,
  startTlsFront,
  type ConnectProxy,
  type TlsFront,
} from '../../testing/network.js';

/**
 * Texts go to Twilio through HTTPS_PROXY: Twilio's real host name over https, tunnelled by the proxy to
 * a local TLS front of the fake Twilio.
 */

const TWILIO_HOST = 'api.twilio.com';
const ACCOUNT_SID = 'AC00000000000000000000000000000001';
const AUTH_TOKEN = 'proxy-test-auth-token';
const FROM = '+15005550006';

let twilio: FakeTwilio;
let front: TlsFront;
let proxy: ConnectProxy;
let server: TestServer;

before(async () => {
  const { cert, key } = await makeTestCertificate([TWILIO_HOST]);
  twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, numbers: [FROM] });
  const twilioPort = Number(new URL(twilio.url).port);
  front = await startTlsFront({ cert, key }, () => twilioPort);
  proxy = await startConnectProxy(front.port);
  server = await startTestServer({
    env: {
      VIGIL_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      VIGIL_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      VIGIL_TWILIO_FROM: FROM,
      VIGIL_TWILIO_API_URL: `https://${TWILIO_HOST}`,
    },
    outbound: { env: { HTTPS_PROXY: proxy.url }, ca: cert },
  });
});

after(async () => {
  await server?.stop();
  await proxy?.close();
  await front?.close();
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
    assert.deepEqual([...new Set(proxy.connects.map((c) => c.target))], [`${TWILIO_HOST}:443`]);
  });
});
