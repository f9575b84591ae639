import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createVigilPrincipal } from './vigil-principal.js';

/**
 * Vigil asks STS who it is in the region it runs in: GovCloud's and China's credentials are refused by
 * us-east-1's STS, so a region fixed there never found Vigil's principal in those partitions.
 */

const signedFor: string[] = [];
let server: http.Server;
const savedEnv = { ...process.env };

before(async () => {
  server = http.createServer((req, res) => {
    // The region of the SigV4 credential scope: Credential=AKID/20260101/<region>/sts/aws4_request.
    signedFor.push(/Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? '?');
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws-us-gov:iam::123456789012:user/vigil</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIAGOVCLOUD00000001',
    AWS_SECRET_ACCESS_KEY: 'x'.repeat(40),
    AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  });
  delete process.env.AWS_PROFILE;
});

after(async () => {
  process.env = savedEnv;
  await new Promise((resolve) => server.close(resolve));
});

async function regionAsked(options: Parameters<typeof createVigilPrincipal>[0]): Promise<string[]> {
  signedFor.length = 0;
  const principal = await createVigilPrincipal(options).get();
  assert.deepEqual(principal, {
    arn: 'arn:aws-us-gov:iam::123456789012:user/vigil',
    source: 'GetCallerIdentity',
  });
  return [...signedFor];
}

describe("Vigil's AWS principal, asked of STS", () => {
  it('in the region of the environment, as Vigil builds it (no env given): GovCloud', async () => {
    process.env.AWS_REGION = 'us-gov-west-1';
    assert.deepEqual(await regionAsked({ configured: undefined }), ['us-gov-west-1']);
  });

  it('in the region of the env it is given: China', async () => {
    process.env.AWS_REGION = 'us-gov-west-1';
    assert.deepEqual(await regionAsked({ env: { AWS_REGION: 'cn-north-1' } }), ['cn-north-1']);
  });

  it('in us-east-1 when nothing names a region', async () => {
    delete process.env.AWS_REGION;
    assert.deepEqual(await regionAsked({}), ['us-east-1']);
  });
});
