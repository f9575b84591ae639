import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startFakeAwsAccount, type FakeAwsAccount } from '../../../testing/fake-aws-account/server.js';
import { OPERATOR, VIGIL, VIGIL_ACCOUNT } from '../../../testing/fake-aws-account/identities.js';
import { openAccount } from './aws-context.js';
import { SetupError } from './aws-errors.js';
import { ShiftedClock } from '../../../work/clock.js';
import { createVigilPrincipal } from './vigil-principal.js';

/**
 * Vigil running as a role with a path (AWS SSO's aws-reserved/sso.amazonaws.com/, service-role/):
 * the session's ARN leaves the path out, and a trust policy naming the role without it is refused by
 * IAM ('Invalid principal in policy'). Vigil asks IAM for the role's real ARN; failing that it names the
 * role without a path, and IAM's refusal of that says what to do.
 */

const ROLE = 'AWSReservedSSO_VigilOps_0123456789abcdef';
const PATH = '/aws-reserved/sso.amazonaws.com/';
const ROLE_ARN = `arn:aws:iam::${VIGIL_ACCOUNT}:role${PATH}${ROLE}`;
const PATHLESS = `arn:aws:iam::${VIGIL_ACCOUNT}:role/${ROLE}`;

let aws: FakeAwsAccount;
const savedEnv = { ...process.env };
let session: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

before(async () => {
  aws = await startFakeAwsAccount({ callers: [OPERATOR, VIGIL] });
  Object.assign(process.env, {
    ...aws.env,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_PROFILE;
  const vigilKeys = { accessKeyId: VIGIL.accessKeyId, secretAccessKey: VIGIL.secretAccessKey };
  const iam = new IAMClient({ region: 'us-east-1', credentials: vigilKeys });
  await iam.send(
    new CreateRoleCommand({
      RoleName: ROLE,
      Path: PATH,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: VIGIL.arn }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  iam.destroy();
  const sts = new STSClient({ region: 'us-east-1', credentials: vigilKeys });
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'vigil-1' }));
  sts.destroy();
  const c = assumed.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  session = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
});

after(async () => {
  process.env = savedEnv;
  await aws?.close();
});

describe('Vigil running as a role with a path', () => {
  beforeEach(() => {
    // Vigil signs in as the SSO role's session, as the SDK's default chain finds it.
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: session.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
      AWS_SESSION_TOKEN: session.sessionToken,
    });
  });

  it("names the role by its whole ARN, path included, which IAM finds (iam:GetRole on Vigil's own role)", async () => {
    assert.deepEqual(await createVigilPrincipal({}).get(), { arn: ROLE_ARN, source: 'GetCallerIdentity' });
  });

  it('names the role without a path when IAM will not say (most roles have none; IAM refuses the rest clearly)', async () => {
    aws.deny('iam:GetRole', ROLE_ARN);
    try {
      assert.deepEqual(await createVigilPrincipal({}).get(), { arn: PATHLESS, source: 'GetCallerIdentity' });
    } finally {
      aws.allow('iam:GetRole', ROLE_ARN);
    }
  });

  const getRoleCalls = () => aws.calls.filter((c) => c.action === 'iam:GetRole').length;

  it('keeps the guess for the life of the process once IAM has refused iam:GetRole', async () => {
    const clock = new ShiftedClock();
    const principal = createVigilPrincipal({ clock });
    aws.deny('iam:GetRole', ROLE_ARN);
    try {
      assert.deepEqual(await principal.get(), { arn: PATHLESS, source: 'GetCallerIdentity' });
    } finally {
      aws.allow('iam:GetRole', ROLE_ARN);
    }
    const asked = getRoleCalls();
    clock.advance(10 * 60_000);
    assert.deepEqual(await principal.get(), { arn: PATHLESS, source: 'GetCallerIdentity' });
    assert.equal(getRoleCalls(), asked, 'IAM is not asked again');
  });

  it('keeps no guess when IAM fails otherwise (a 5xx): no answer, and IAM is asked again after the wait', async () => {
    const unavailable = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'text/xml' });
        res.end(
          '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>Service is unavailable</Message></Error><RequestId>1</RequestId></ErrorResponse>',
        );
      });
    });
    await new Promise<void>((resolve) => unavailable.listen(0, '127.0.0.1', resolve));
    const clock = new ShiftedClock();
    const principal = createVigilPrincipal({ clock });
    try {
      process.env.AWS_ENDPOINT_URL_IAM = `http://127.0.0.1:${(unavailable.address() as AddressInfo).port}`;
      assert.equal(await principal.get(), undefined, 'not the path-less guess');
    } finally {
      process.env.AWS_ENDPOINT_URL_IAM = aws.env.AWS_ENDPOINT_URL_IAM;
      await new Promise((resolve) => unavailable.close(resolve));
    }
    const asked = getRoleCalls();
    assert.equal(await principal.get(), undefined, 'a failed lookup waits before it asks again');
    assert.equal(getRoleCalls(), asked);
    clock.advance(60_000);
    assert.deepEqual(await principal.get(), { arn: ROLE_ARN, source: 'GetCallerIdentity' });
    assert.equal(getRoleCalls(), asked + 1, 'IAM was asked again');
  });
});

describe('a trust policy naming the role without its path', () => {
  it('is refused by IAM, and the refusal says to give Vigil’s identity with --vigil-principal', async () => {
    const a = await openAccount(
      {
        label: 'operator',
        credentials: async () => ({
          accessKeyId: OPERATOR.accessKeyId,
          secretAccessKey: OPERATOR.secretAccessKey,
        }),
      },
      'us-east-1',
    );
    try {
      const error = await a
        .call({ action: 'iam:CreateRole', region: 'global' }, () =>
          a.iam.send(
            new CreateRoleCommand({
              RoleName: 'VigilSecurityHubRole-test',
              AssumeRolePolicyDocument: JSON.stringify({
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Principal: { AWS: PATHLESS }, Action: 'sts:AssumeRole' }],
              }),
            }),
          ),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof SetupError, String(error));
      assert.match(error.message, /--vigil-principal/);
      assert.match(error.message, /VIGIL_AWS_PRINCIPAL_ARN/);
      assert.match(error.message, new RegExp(PATHLESS.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
      assert.match(error.message, /AWS said: .*Invalid principal in policy/);
    } finally {
      a.close();
    }
  });
});
