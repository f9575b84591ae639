import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateActionTargetCommand,
  DeleteActionTargetCommand,
  DescribeActionTargetsCommand,
  DescribeHubCommand,
  SecurityHubClient,
  SecurityHubServiceException,
  UpdateActionTargetCommand,
} from '@aws-sdk/client-securityhub';
import { MAX_ACTION_TARGETS } from './securityhub.js';
import { startFakeAwsAccount, type FakeAwsAccount } from './server.js';
import type { FakeCaller } from './types.js';

const OPERATOR: FakeCaller = {
  accessKeyId: 'AKIAOPERATOR00000002',
  secretAccessKey: 'operator-secret',
  arn: 'arn:aws:iam::111122223333:user/operator',
  account: '111122223333',
};
const FULL: FakeCaller = {
  accessKeyId: 'AKIAFULLACCOUNT00001',
  secretAccessKey: 'full-secret',
  arn: 'arn:aws:iam::777788889999:user/operator',
  account: '777788889999',
};
const REGION = 'us-east-1';
/** A region the test leaves Security Hub off in. */
const DISABLED_REGION = 'eu-west-1';

interface Refusal {
  name: string;
  message: string;
  status: number | undefined;
}

async function refusal(call: Promise<unknown>): Promise<Refusal> {
  try {
    await call;
  } catch (err) {
    if (err instanceof SecurityHubServiceException)
      return { name: err.name, message: err.message, status: err.$metadata.httpStatusCode };
    throw err;
  }
  return assert.fail('expected Security Hub to refuse the call');
}

describe('fake Security Hub custom actions, through the official SDK', () => {
  let fake: FakeAwsAccount;
  let hub: SecurityHubClient;
  const clientFor = (caller: FakeCaller, region = REGION) =>
    new SecurityHubClient({
      region,
      endpoint: fake.url,
      credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: caller.secretAccessKey },
      // LimitExceededException is throttling to the SDK, which would retry it; one attempt shows the answer.
      maxAttempts: 1,
    });
  const arnOf = (id: string, account = OPERATOR.account) =>
    `arn:aws:securityhub:${REGION}:${account}:action/custom/${id}`;

  before(async () => {
    fake = await startFakeAwsAccount({
      callers: [OPERATOR, FULL],
      regions: [REGION, DISABLED_REGION],
      securityHubEnabled: [`${OPERATOR.account}:${REGION}`, `${FULL.account}:${REGION}`],
    });
    hub = clientFor(OPERATOR);
  });
  after(async () => {
    hub.destroy();
    await fake.close();
  });

  it('creates, describes, updates and deletes a custom action', async () => {
    const created = await hub.send(
      new CreateActionTargetCommand({
        Name: 'Send to Vigil',
        Description: 'Page the on-call',
        Id: 'SendToVigil',
      }),
    );
    assert.equal(created.ActionTargetArn, arnOf('SendToVigil'));
    await hub.send(
      new CreateActionTargetCommand({ Name: 'Other', Description: 'Other action', Id: 'Other1' }),
    );

    const all = await hub.send(new DescribeActionTargetsCommand({}));
    assert.deepEqual(all.ActionTargets, [
      { ActionTargetArn: arnOf('SendToVigil'), Name: 'Send to Vigil', Description: 'Page the on-call' },
      { ActionTargetArn: arnOf('Other1'), Name: 'Other', Description: 'Other action' },
    ]);
    const one = await hub.send(new DescribeActionTargetsCommand({ ActionTargetArns: [arnOf('Other1')] }));
    assert.deepEqual(
      one.ActionTargets?.map((t) => t.Name),
      ['Other'],
    );
    const paged = await hub.send(new DescribeActionTargetsCommand({ MaxResults: 1 }));
    assert.equal(paged.ActionTargets?.length, 1);
    const rest = await hub.send(
      new DescribeActionTargetsCommand({ MaxResults: 1, NextToken: paged.NextToken }),
    );
    assert.deepEqual(
      rest.ActionTargets?.map((t) => t.Name),
      ['Other'],
    );
    assert.equal(rest.NextToken, undefined);

    await hub.send(
      new UpdateActionTargetCommand({ ActionTargetArn: arnOf('SendToVigil'), Description: 'Page now' }),
    );
    assert.deepEqual(fake.services.securityhub.actionTargets(OPERATOR.account, REGION)[0], {
      ActionTargetArn: arnOf('SendToVigil'),
      Name: 'Send to Vigil',
      Description: 'Page now',
    });

    const deleted = await hub.send(new DeleteActionTargetCommand({ ActionTargetArn: arnOf('Other1') }));
    assert.equal(deleted.ActionTargetArn, arnOf('Other1'));
    const again = await refusal(
      hub.send(new DeleteActionTargetCommand({ ActionTargetArn: arnOf('Other1') })),
    );
    assert.deepEqual([again.name, again.status], ['ResourceNotFoundException', 404]);
    assert.ok(fake.calls.some((c) => c.action === 'securityhub:DeleteActionTarget' && c.mutating));
  });

  it('refuses a taken Id, bad members and unknown ARNs', async () => {
    const taken = await refusal(
      hub.send(new CreateActionTargetCommand({ Name: 'Again', Description: 'x', Id: 'SendToVigil' })),
    );
    assert.deepEqual(
      [taken.name, taken.message, taken.status],
      ['ResourceConflictException', 'Action with Id: SendToVigil already exists', 409],
    );
    for (const input of [
      { Name: 'x'.repeat(21), Description: 'd', Id: 'LongName' },
      { Name: 'n', Description: 'd', Id: 'Not-Alphanumeric' },
      { Name: 'n', Description: 'd', Id: 'A123456789012345678901' },
      { Name: 'n', Description: '   ', Id: 'BlankDescription' },
      { Name: 'n', Description: 'd', Id: '' },
    ]) {
      const refused = await refusal(hub.send(new CreateActionTargetCommand(input)));
      assert.deepEqual([refused.name, refused.status], ['InvalidInputException', 400], JSON.stringify(input));
    }
    const unknown = await refusal(
      hub.send(
        new DescribeActionTargetsCommand({ ActionTargetArns: [arnOf('SendToVigil'), arnOf('Missing')] }),
      ),
    );
    assert.deepEqual([unknown.name, unknown.status], ['ResourceNotFoundException', 404]);
    const otherAccount = await refusal(
      hub.send(
        new UpdateActionTargetCommand({ ActionTargetArn: arnOf('SendToVigil', FULL.account), Name: 'x' }),
      ),
    );
    assert.equal(otherAccount.name, 'ResourceNotFoundException');
    const longName = await refusal(
      hub.send(
        new UpdateActionTargetCommand({ ActionTargetArn: arnOf('SendToVigil'), Name: 'y'.repeat(21) }),
      ),
    );
    assert.equal(longName.name, 'InvalidInputException');
    assert.equal(fake.services.securityhub.actionTargets(OPERATOR.account, REGION).length, 1);
  });

  it(`allows ${MAX_ACTION_TARGETS} custom actions per account and region`, async () => {
    const client = clientFor(FULL);
    fake.services.securityhub.preloadActionTargets(
      FULL.account,
      REGION,
      Array.from({ length: MAX_ACTION_TARGETS - 1 }, (_, i) => ({
        id: `Pre${i}`,
        name: `Pre ${i}`,
        description: 'd',
      })),
    );
    await client.send(new CreateActionTargetCommand({ Name: 'Last', Description: 'd', Id: 'Last' }));
    const over = await refusal(
      client.send(new CreateActionTargetCommand({ Name: 'Over', Description: 'd', Id: 'Over' })),
    );
    assert.deepEqual([over.name, over.status], ['LimitExceededException', 429]);
    const described = await client.send(new DescribeActionTargetsCommand({ MaxResults: 100 }));
    assert.equal(described.ActionTargets?.length, MAX_ACTION_TARGETS);
    client.destroy();
  });

  it('DescribeHub answers for an enabled region', async () => {
    const described = await hub.send(new DescribeHubCommand({}));
    assert.equal(described.HubArn, `arn:aws:securityhub:${REGION}:${OPERATOR.account}:hub/default`);
    assert.ok(described.SubscribedAt !== undefined && !Number.isNaN(Date.parse(described.SubscribedAt)));
    assert.equal(described.AutoEnableControls, true);
  });

  it('refuses every operation where Security Hub is not enabled', async () => {
    const off = clientFor(OPERATOR, DISABLED_REGION);
    const arn = `arn:aws:securityhub:${DISABLED_REGION}:${OPERATOR.account}:action/custom/SendToVigil`;
    for (const call of [
      () => off.send(new CreateActionTargetCommand({ Name: 'n', Description: 'd', Id: 'SendToVigil' })),
      () => off.send(new DescribeActionTargetsCommand({})),
      () => off.send(new UpdateActionTargetCommand({ ActionTargetArn: arn, Name: 'n' })),
      () => off.send(new DeleteActionTargetCommand({ ActionTargetArn: arn })),
      () => off.send(new DescribeHubCommand({})),
    ]) {
      const refused = await refusal(call());
      assert.deepEqual(
        [refused.name, refused.message, refused.status],
        ['InvalidAccessException', `Account ${OPERATOR.account} is not subscribed to AWS Security Hub`, 401],
      );
    }
    off.destroy();
    assert.equal(fake.services.securityhub.actionTargets(OPERATOR.account, DISABLED_REGION).length, 0);
  });

  it('checks the signature', async () => {
    const forged = new SecurityHubClient({
      region: REGION,
      endpoint: fake.url,
      credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    const refused = await refusal(forged.send(new DescribeActionTargetsCommand({})));
    forged.destroy();
    assert.deepEqual([refused.name, refused.status], ['InvalidSignatureException', 403]);
  });
});
