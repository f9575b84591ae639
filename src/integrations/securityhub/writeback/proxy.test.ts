import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../testing/fake-aws.js';
import {
  makeTestCertificate,
  startConnectProxy,
  startTlsFront,
  type ConnectProxy,
  type TlsFront,
} from '../../../testing/network.js';
import { startTestServer, type TestServer } from '../../../testing/harness.js';

/**
 * AWS calls honour HTTPS_PROXY and NO_PROXY: the SDK is pointed at the real AWS host names over https,
 * the proxy tunnels them to a local TLS front of the fake STS and Security Hub.
 */

const ROLE = 'arn:aws:iam::123456789012:role/VigilSecurityHubRoleProxy';
const CALLER = { id: 'AKIAVIGILPROXYCALLER', secret: 'vigil-proxy-caller-secret-0123456789' };
const STS_HOST = 'sts.us-east-1.amazonaws.com';
const HUB_HOST = 'securityhub.us-east-1.amazonaws.com';

let aws: FakeAws;
let front: TlsFront;
let proxy: ConnectProxy;
let refusing: ConnectProxy;
let cert: Buffer;
const roles: Record<string, { externalId: string }> = {};

before(async () => {
  const made = await makeTestCertificate([STS_HOST, HUB_HOST]);
  cert = made.cert;
  aws = await startFakeAws({ callerAccessKeyId: CALLER.id, callerSecretAccessKey: CALLER.secret, roles });
  const portOf = (url: string) => Number(new URL(url).port);
  // TLS in front of the fakes, routed by the name the client asked for.
  front = await startTlsFront(made, (servername) =>
    portOf(servername === STS_HOST ? aws.stsUrl : aws.securityHubUrl),
  );
  proxy = await startConnectProxy(front.port);
  refusing = await startConnectProxy(front.port, { refuse: () => true });
  // Vigil's own AWS identity, through the SDK's default chain.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CALLER.id,
    AWS_SECRET_ACCESS_KEY: CALLER.secret,
    AWS_REGION: 'us-east-1',
  });
});

after(async () => {
  await proxy.close();
  await refusing.close();
  await front.close();
  await aws.close();
});

async function testWriteback(
  env: Record<string, string>,
  hosts: { sts: string; hub: string } = { sts: STS_HOST, hub: HUB_HOST },
): Promise<{ server: TestServer; result: { ok: boolean; steps: unknown[] } }> {
  const server = await startTestServer({
    aws: {
      ca: cert,
      // Only the proxy settings differ between the two tests; they are read by Vigil's agent.
      env,
    },
  });
  await server.call('POST', '/v2/teams', { name: 'SecOps' });
  const created = await server.call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: 'Proxied',
    ownerTeam: { name: 'SecOps' },
    sendUpdatesBack: true,
    roleArn: ROLE,
    region: 'us-east-1',
  });
  // The fake learns the role's external ID now that Vigil made one.
  roles[ROLE] = { externalId: created.body.data.externalId };
  process.env.AWS_ENDPOINT_URL_STS = `https://${hosts.sts}`;
  process.env.AWS_ENDPOINT_URL_SECURITYHUB = `https://${hosts.hub}`;
  const res = await server.call('POST', `/v2/integrations/${created.body.data.id}/test-writeback`);
  return { server, result: res.body.data };
}

describe('AWS through a proxy', () => {
  it('tunnels STS and Security Hub calls through HTTPS_PROXY', async () => {
    const { server, result } = await testWriteback({ HTTPS_PROXY: proxy.url });
    try {
      assert.deepEqual(
        proxy.connects.map((c) => c.target).sort(),
        [`${HUB_HOST}:443`, `${STS_HOST}:443`].sort(),
      );
      assert.deepEqual(result, {
        ok: true,
        steps: [
          { step: 'AssumeRole', ok: true },
          { step: 'AssumeRoleWithoutExternalId', ok: true },
          { step: 'GetFindings', ok: true },
          { step: 'BatchUpdateFindings', ok: true },
          { step: 'BatchUpdateFindingsV2', ok: true },
        ],
      });
    } finally {
      await server.stop();
    }
  });

  it('goes direct for hosts in NO_PROXY', async () => {
    const before = proxy.connects.length;
    // Names under .invalid never resolve (RFC 6761): going direct cannot reach anything outside.
    const { server, result } = await testWriteback(
      { HTTPS_PROXY: proxy.url, NO_PROXY: '.invalid' },
      { sts: 'sts.vigil-test.invalid', hub: 'securityhub.vigil-test.invalid' },
    );
    try {
      assert.equal(proxy.connects.length, before);
      // Direct, the name does not resolve: the first step fails trying to connect, not through the proxy.
      assert.equal(result.ok, false);
      assert.match(
        JSON.stringify(result.steps),
        /AssumeRole.*(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|connect)/i,
      );
    } finally {
      await server.stop();
    }
  });

  it("reports a proxy that refuses the tunnel, rather than taking its answer for STS's", async () => {
    const { server, result } = await testWriteback({ HTTPS_PROXY: refusing.url });
    try {
      assert.deepEqual(
        refusing.connects.map((c) => c.target),
        [`${STS_HOST}:443`],
      );
      assert.equal(result.ok, false);
      assert.equal(result.steps.length, 1);
      assert.match(
        JSON.stringify(result.steps[0]),
        /"AssumeRole".*Proxy 127\.0\.0\.1:\d+ refused CONNECT to sts\.us-east-1\.amazonaws\.com:443 with status 407/,
      );
    } finally {
      await server.stop();
    }
  });
});
