import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { Command } from 'commander';
import { startFakeAwsAccount, type FakeAwsAccount } from '../testing/fake-aws-account/server.js';
import { CUSTOMER, OPERATOR, VIGIL } from '../testing/fake-aws-account/identities.js';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { memberAccountAccess, operatorAccess } from '../integrations/securityhub/aws-setup/aws-context.js';
import { runTeardown } from '../integrations/securityhub/aws-setup/teardown.js';
import { createVigilApi, VigilApiError } from '../integrations/securityhub/aws-setup/vigil-api.js';
import { awsCommand } from './aws.js';

/**
 * `vigil aws teardown` over several accounts never leaves Vigil assuming a role it deleted: every
 * account is opened before anything is deleted (a mistyped --account-role deletes nothing), and the
 * write-back is turned off whenever its role went, even when a later account fails.
 */

const MEMBER = '444455556666';
const MEMBER_ADMIN = {
  accessKeyId: 'AKIAMEMBERADMIN00002',
  secretAccessKey: 'member-secret-11111111111111111111111111',
  arn: `arn:aws:iam::${MEMBER}:user/admin`,
  account: MEMBER,
};
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/OrganizationSetup`;
/** No such account is known to AWS here: assuming a role in it is refused. */
const TYPO_ROLE = 'arn:aws:iam::999988887777:role/OrganizationSetup';

let server: TestServer;
let aws: FakeAwsAccount;
let dir: string;
const savedEnv = { ...process.env };

function trusting(principal: string) {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });
}

async function createRole(
  as: { accessKeyId: string; secretAccessKey: string },
  name: string,
  trust: string,
  tags: Record<string, string> = {},
) {
  const iam = new IAMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: as.accessKeyId, secretAccessKey: as.secretAccessKey },
  });
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: trust,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  } finally {
    iam.destroy();
  }
}

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-aws-teardown-'));
  aws = await startFakeAwsAccount({
    callers: [OPERATOR, VIGIL, MEMBER_ADMIN],
    securityHubEnabled: [`${CUSTOMER}:us-east-1`, `${MEMBER}:us-east-1`],
  });
  const credentials = path.join(dir, 'credentials');
  await fs.writeFile(
    credentials,
    `[operator]\naws_access_key_id = ${OPERATOR.accessKeyId}\naws_secret_access_key = ${OPERATOR.secretAccessKey}\n`,
  );
  Object.assign(process.env, {
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_CONFIG_FILE: path.join(dir, 'no-config'),
    AWS_ACCESS_KEY_ID: VIGIL.accessKeyId,
    AWS_SECRET_ACCESS_KEY: VIGIL.secretAccessKey,
    AWS_REGION: 'us-east-1',
    ...aws.env,
  });
  server = await startTestServer({ env: { VIGIL_AWS_PRINCIPAL_ARN: VIGIL.arn } });
  await server.callOk('POST', '/v2/teams', { name: 'SecOps' });
  await createRole(MEMBER_ADMIN, 'OrganizationSetup', trusting(`arn:aws:iam::${CUSTOMER}:root`));
});

after(async () => {
  await server?.stop();
  await aws?.close();
  process.env = savedEnv;
  await fs.rm(dir, { recursive: true, force: true });
});

/** An integration whose write-back is on, with the role setup would have made for it in CUSTOMER. */
async function integrationWithWriteback(
  name: string,
): Promise<{ id: string; role: string; roleArn: string }> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name,
    ownerTeam: { name: 'SecOps' },
  });
  const id: string = made.data.id;
  const role = `VigilSecurityHubRole-${id.replace(/-/g, '').slice(0, 8)}`;
  await createRole(OPERATOR, role, trusting(VIGIL.arn), {
    'vigil:integration': id,
    'vigil:managed-by': 'vigil aws setup',
  });
  const roleArn = `arn:aws:iam::${CUSTOMER}:role/${role}`;
  await server.callOk('PATCH', `/v2/integrations/${id}`, {
    sendUpdatesBack: true,
    roleArn,
    region: 'us-east-1',
  });
  return { id, role, roleArn };
}

async function teardown(args: string[]): Promise<{ lines: string[]; error?: Error }> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  program.addCommand(
    awsCommand({
      out: (line) => lines.push(line),
      env: { VIGIL_URL: server.url, VIGIL_API_KEY: server.key },
    }),
  );
  try {
    await program.parseAsync(['node', 'vigil', 'aws', 'teardown', ...args, '--profile', 'operator'], {
      from: 'node',
    });
    return { lines };
  } catch (error) {
    return { lines, error: error as Error };
  }
}

const writeback = async (id: string) => {
  const data = (await server.callOk('GET', `/v2/integrations/${id}`)).data;
  return { sendUpdatesBack: data.sendUpdatesBack as boolean, roleArn: data.roleArn as string | null };
};

describe('vigil aws teardown across accounts', () => {
  it('a mistyped --account-role stops it before anything is deleted', async () => {
    const integration = await integrationWithWriteback('Typo Hub');
    const mutatingBefore = aws.calls.filter((c) => c.mutating).length;
    const run = await teardown([
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--account-role',
      TYPO_ROLE,
    ]);
    assert.ok(run.error, 'it fails');
    assert.match(run.error.message, /sts:AssumeRole|999988887777/);
    assert.ok(
      aws.roles(CUSTOMER).some((r) => r.name === integration.role),
      `the first account's write-back role is still there:\n${run.lines.join('\n')}`,
    );
    assert.equal(aws.calls.filter((c) => c.mutating).length, mutatingBefore, 'nothing was changed');
    assert.deepEqual(await writeback(integration.id), {
      sendUpdatesBack: true,
      roleArn: integration.roleArn,
    });
  });

  it('turns the write-back off when its role went, though a later account failed', async () => {
    const integration = await integrationWithWriteback('Half Hub');
    // The member account's roles cannot be looked at: its part of the teardown fails.
    aws.deny('iam:GetRole', MEMBER_ROLE);
    try {
      const run = await teardown([
        '--integration',
        integration.id,
        '--region',
        'us-east-1',
        '--account-role',
        MEMBER_ROLE,
      ]);
      const text = run.lines.join('\n');
      assert.ok(!aws.roles(CUSTOMER).some((r) => r.name === integration.role), `the role went:\n${text}`);
      assert.equal((await writeback(integration.id)).sendUpdatesBack, false, 'Vigil no longer assumes it');
      assert.match(text, /Turned the write-back off in Vigil: its role is gone/);
      assert.ok(run.error, 'it fails');
      assert.match(
        run.error.message,
        /teardown did not finish in 1 places:\n {2}444455556666 global: .*iam:GetRole/,
      );
    } finally {
      aws.allow('iam:GetRole', MEMBER_ROLE);
    }
  });

  it('says both what did not finish and that the write-back is still on, when Vigil cannot be told', async () => {
    const integration = await integrationWithWriteback('Unreachable Hub');
    const api = createVigilApi({ url: server.url, apiKey: server.key });
    const unreachable = {
      ...api,
      updateSettings: async () => {
        throw new VigilApiError('Vigil answered 503 to PATCH: unavailable.');
      },
    };
    const operator = operatorAccess('operator');
    const lines: string[] = [];
    const request = {
      facts: await api.facts(integration.id),
      regions: ['us-east-1'],
      accounts: [operator, memberAccountAccess(operator, MEMBER_ROLE)],
      dryRun: false,
      keepRoles: false,
      vigil: unreachable,
      progress: (line: string) => lines.push(line),
    };
    aws.deny('iam:GetRole', MEMBER_ROLE);
    try {
      const error = await runTeardown(request).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      assert.ok(!aws.roles(CUSTOMER).some((r) => r.name === integration.role), 'the role went');
      assert.match(
        error?.message ?? '',
        /teardown did not finish in 1 places:\n {2}444455556666 global: .*iam:GetRole/,
        lines.join('\n'),
      );
      assert.match(
        error?.message ?? '',
        /the write-back role .* is deleted, but Vigil could not be told to stop assuming it \(Vigil answered 503.*turn the write-back off in the integration's settings/,
      );
    } finally {
      aws.allow('iam:GetRole', MEMBER_ROLE);
    }
    assert.equal((await writeback(integration.id)).sendUpdatesBack, true, 'Vigil was never told');
  });

  it('lets an unexpected error through, not the write-back message, when Vigil cannot be told', async () => {
    const integration = await integrationWithWriteback('Buggy Hub');
    const api = createVigilApi({ url: server.url, apiKey: server.key });
    const bug = new TypeError('a bug after the role went');
    const lines: string[] = [];
    let thrown = false;
    const operator = operatorAccess('operator');
    const error = await runTeardown({
      facts: await api.facts(integration.id),
      regions: ['us-east-1'],
      accounts: [operator, memberAccountAccess(operator, MEMBER_ROLE)],
      dryRun: false,
      keepRoles: false,
      vigil: {
        ...api,
        updateSettings: async () => {
          throw new VigilApiError('Vigil answered 503 to PATCH: unavailable.');
        },
      },
      // The first line about the member account stands for a bug anywhere after the role went.
      progress: (line: string) => {
        if (!thrown && line.includes(MEMBER)) {
          thrown = true;
          throw bug;
        }
        lines.push(line);
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(!aws.roles(CUSTOMER).some((r) => r.name === integration.role), 'the role went');
    assert.equal(error, bug, lines.join('\n'));
    assert.match(lines.join('\n'), /Vigil could not be told to stop assuming it/);
  });
});
