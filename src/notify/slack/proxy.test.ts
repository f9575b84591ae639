import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeSlack, type FakeSlack } from '../../testing/fake-slack.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { proxiedHost, type ProxiedHost } from '../../testing/network.js';

/**
 * Vigil's calls to Slack go through HTTPS_PROXY: Slack's real host name over https, tunnelled by the
 * proxy to a local TLS front of the fake Slack. The same fetch carries Twilio's and the push services'
 * calls (http/outbound-fetch.ts, tested there on its own).
 */

const SLACK_HOST = 'slack.com';
const CHANNEL = 'C0PROXY0001';

let slack: FakeSlack;
let tunnel: ProxiedHost;
let refusingTunnel: ProxiedHost;
let server: TestServer;
let refused: TestServer;

before(async () => {
  slack = await startFakeSlack();
  slack.addChannel(CHANNEL);
  const slackPort = Number(new URL(slack.apiUrl).port);
  tunnel = await proxiedHost(SLACK_HOST, slackPort);
  refusingTunnel = await proxiedHost(SLACK_HOST, slackPort, { refuse: () => true });
  const env = {
    VIGIL_SLACK_BOT_TOKEN: slack.botToken,
    VIGIL_SLACK_SIGNING_SECRET: slack.signingSecret,
    VIGIL_SLACK_API_URL: `https://${SLACK_HOST}/api/`,
  };
  server = await startTestServer({ env, outbound: tunnel.outbound });
  refused = await startTestServer({ env, outbound: refusingTunnel.outbound });
});

async function slackDestination(on: TestServer, name: string): Promise<string> {
  await on.call('POST', '/v2/teams', { name });
  const created = await on.call('POST', '/v2/destinations', {
    name,
    type: 'slack',
    team: { name },
    config: { channel: CHANNEL },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.data.id as string;
}

after(async () => {
  await server?.stop();
  await refused?.stop();
  await tunnel?.close();
  await refusingTunnel?.close();
  await slack?.close();
});

describe('Slack through a proxy', () => {
  it("posts a destination's test message to Slack through HTTPS_PROXY", async () => {
    const id = await slackDestination(server, 'Proxied team');
    const tested = await server.call('POST', `/v2/destinations/${id}/test`);
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    assert.equal(tested.body.data.status, 'sent', JSON.stringify(tested.body));
    assert.match(tested.body.data.detail, /^posted \(ts \d+\.\d+\)$/);
    assert.equal(slack.messages(CHANNEL).length, 1);
    assert.ok(tunnel.proxy.connects.length > 0);
    assert.deepEqual([...new Set(tunnel.proxy.connects.map((c) => c.target))], [`${SLACK_HOST}:443`]);
  });

  it('says so when the proxy refuses the tunnel, and reaches Slack no other way', async () => {
    const before = slack.messages(CHANNEL).length;
    const id = await slackDestination(refused, 'Refused team');
    const tested = await refused.call('POST', `/v2/destinations/${id}/test`);
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    assert.equal(tested.body.data.status, 'retry');
    assert.match(
      tested.body.data.error,
      /^Slack could not be reached for chat\.postMessage: Proxy 127\.0\.0\.1:\d+ refused CONNECT to slack\.com:443 with status 407$/,
    );
    assert.equal(slack.messages(CHANNEL).length, before);
  });
});
