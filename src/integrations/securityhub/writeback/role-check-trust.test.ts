import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { startFakeAwsAccount, type FakeAwsAccount } from '../../../testing/fake-aws-account/server.js';
import { createAwsAccess, type AwsAccess, type RoleTarget } from './aws.js';
import { checkRole } from './role-check.js';
import { OPERATOR, VIGIL } from '../../../testing/fake-aws-account/identities.js';

/**
 * The role test against trust policies as IAM evaluates them (the local AWS account's STS and IAM), with
 * the real AWS SDK: a sts:ExternalId condition that matches other values than the integration's lets
 * every Vigil integration on the instance assume the role with its own external ID, so it must not pass.
 */

const EXTERNAL_ID = randomBytes(16).toString('hex');
const ANY_ID = `the role can be assumed with any external ID, not only this integration's: its trust policy's sts:ExternalId condition matches other values (StringLike with a wildcard, or Null). Replace it with StringEquals sts:ExternalId = ${EXTERNAL_ID}.`;

let account: FakeAwsAccount;
let iam: IAMClient;
let aws: AwsAccess;
const savedEnv = { ...process.env };

before(async () => {
  account = await startFakeAwsAccount({ callers: [OPERATOR, VIGIL] });
  // Vigil's own identity comes from the SDK's default chain, as in production.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: VIGIL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: VIGIL.secretAccessKey,
    AWS_REGION: 'us-east-1',
    ...account.env,
  });
  iam = new IAMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey },
  });
  aws = createAwsAccess();
});

after(async () => {
  iam?.destroy();
  await account?.close();
  process.env = savedEnv;
});

function trustPolicy(condition: Record<string, Record<string, string>> | undefined): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: VIGIL.arn },
        Action: 'sts:AssumeRole',
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
}

async function roleWith(name: string, condition: Record<string, Record<string, string>> | undefined) {
  const made = await iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trustPolicy(condition) }),
  );
  const target: RoleTarget = {
    integrationId: name,
    integrationName: 'Prod Hub',
    roleArn: made.Role?.Arn ?? '',
    externalId: EXTERNAL_ID,
    region: 'us-east-1',
  };
  return target;
}

const stepsOf = (result: Awaited<ReturnType<typeof checkRole>>) => result.steps.map((s) => [s.step, s.ok]);

describe('the role test against trust policies', () => {
  it('passes a role whose condition is StringEquals sts:ExternalId = the integration’s', async () => {
    const target = await roleWith('VigilSecurityHubRole-equals', {
      StringEquals: { 'sts:ExternalId': EXTERNAL_ID },
    });
    const result = await checkRole(aws, target);
    assert.equal(result.ok, true, JSON.stringify(result.steps));
    assert.deepEqual(stepsOf(result), [
      ['AssumeRole', true],
      ['AssumeRoleWithoutExternalId', true],
      ['GetFindings', true],
      ['BatchUpdateFindings', true],
      ['BatchUpdateFindingsV2', true],
    ]);
    // Refused both without an external ID and with another one.
    const refused = account.assumeRoleCalls.filter((c) => c.roleArn === target.roleArn && c.status !== 200);
    assert.deepEqual(
      refused.map((c) => [c.externalId === undefined, c.externalId === EXTERNAL_ID, c.errorCode]),
      [
        [true, false, 'AccessDenied'],
        [false, false, 'AccessDenied'],
      ],
    );
  });

  for (const [name, condition] of [
    ['StringLike sts:ExternalId "*"', { StringLike: { 'sts:ExternalId': '*' } }],
    ['Null sts:ExternalId "false"', { Null: { 'sts:ExternalId': 'false' } }],
  ] as const) {
    it(`fails a role whose condition is ${name}, which refuses no external ID but lets in any`, async () => {
      const target = await roleWith(`VigilSecurityHubRole-${name.split(' ')[0] ?? ''}`, condition);
      const result = await checkRole(aws, target);
      assert.equal(result.ok, false);
      assert.deepEqual(result.steps, [
        { step: 'AssumeRole', ok: true },
        { step: 'AssumeRoleWithoutExternalId', ok: false, error: ANY_ID },
      ]);
      const calls = account.assumeRoleCalls.filter((c) => c.roleArn === target.roleArn);
      assert.ok(calls.some((c) => c.externalId === undefined && c.status === 403));
      assert.ok(
        calls.some((c) => c.externalId !== EXTERNAL_ID && c.externalId !== undefined && c.status === 200),
      );
    });
  }

  it('fails a role with no condition for the missing external ID, as before', async () => {
    const target = await roleWith('VigilSecurityHubRole-open', undefined);
    const result = await checkRole(aws, target);
    assert.equal(result.ok, false);
    assert.match(
      result.steps.at(-1)?.error ?? '',
      /^the role can be assumed without the integration's external ID/,
    );
  });

  it('passes once the customer replaces the wildcard with StringEquals: nothing of the failed check is kept', async () => {
    const target = await roleWith('VigilSecurityHubRole-fixed', {
      StringLike: { 'sts:ExternalId': '*' },
    });
    assert.equal((await checkRole(aws, target)).ok, false);
    await iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'VigilSecurityHubRole-fixed',
        PolicyDocument: trustPolicy({ StringEquals: { 'sts:ExternalId': EXTERNAL_ID } }),
      }),
    );
    const result = await checkRole(aws, target);
    assert.equal(result.ok, true, JSON.stringify(result.steps));
  });
});
