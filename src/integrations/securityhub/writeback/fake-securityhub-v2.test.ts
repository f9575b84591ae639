import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  SecurityHubClient,
  type BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ocsfKey, startFakeAws, type FakeAws, type OcsfIdentifier } from '../../../testing/fake-aws.js';

/**
 * The fake Security Hub's BatchUpdateFindingsV2, driven by the official SDK: the write-back tests rely on it
 * refusing what AWS refuses, so its checks are tested here.
 */

const CALLER = {
  accessKeyId: 'AKIAVIGILTESTCALLER2',
  secretAccessKey: 'vigil-test-caller-secret-key-v2-0123',
};
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRoleV2`;
const EXTERNAL_ID = 'vigil-ext-v2';
const PRODUCT = 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub';
const FINDING: OcsfIdentifier = {
  CloudAccountUid: ACCOUNT,
  FindingInfoUid: 'finding-1',
  MetadataProductUid: PRODUCT,
};

let fake: FakeAws;
let client: SecurityHubClient;

before(async () => {
  fake = await startFakeAws({
    callerAccessKeyId: CALLER.accessKeyId,
    callerSecretAccessKey: CALLER.secretAccessKey,
    roles: { [ROLE]: { externalId: EXTERNAL_ID } },
    ratePerSecond: 0.001,
    burst: 100,
  });
  const sts = new STSClient({
    endpoint: fake.stsUrl,
    region: 'us-east-1',
    credentials: CALLER,
    maxAttempts: 1,
  });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'vigil', ExternalId: EXTERNAL_ID }),
  );
  const c = out.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  client = new SecurityHubClient({
    endpoint: fake.securityHubUrl,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    },
  });
  fake.addOcsfFinding({ ...FINDING, MetadataUid: 'metadata-1' });
});

after(async () => {
  client.destroy();
  await fake.close();
});

async function refused(input: BatchUpdateFindingsV2CommandInput, pattern: RegExp): Promise<void> {
  await assert.rejects(client.send(new BatchUpdateFindingsV2Command(input)), (err: Error) => {
    assert.equal(err.name, 'ValidationException', err.message);
    assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("the fake Security Hub's BatchUpdateFindingsV2", () => {
  it('applies StatusId, SeverityId and Comment to the findings named, and answers the others unprocessed', async () => {
    const missing = { ...FINDING, FindingInfoUid: 'finding-missing' };
    const answer = await client.send(
      new BatchUpdateFindingsV2Command({
        FindingIdentifiers: [FINDING, missing],
        StatusId: 2,
        SeverityId: 5,
        Comment: 'Isolating',
      }),
    );
    assert.deepEqual(answer.ProcessedFindings, [{ FindingIdentifier: FINDING }]);
    assert.deepEqual(answer.UnprocessedFindings, [
      {
        FindingIdentifier: missing,
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: 'Finding not found',
      },
    ]);
    const held = fake.ocsfFindings.get(ocsfKey(FINDING));
    assert.deepEqual(
      {
        StatusId: held?.StatusId,
        SeverityId: held?.SeverityId,
        Comment: held?.Comment,
        updates: held?.updates,
      },
      { StatusId: 2, SeverityId: 5, Comment: 'Isolating', updates: 1 },
    );
    const byUid = await client.send(
      new BatchUpdateFindingsV2Command({ MetadataUids: ['metadata-1'], StatusId: 4 }),
    );
    assert.deepEqual(byUid.ProcessedFindings, [{ MetadataUid: 'metadata-1' }]);
    assert.equal(fake.ocsfFindings.get(ocsfKey(FINDING))?.StatusId, 4);
    const last = fake.securityHubRequests.at(-1);
    assert.equal(last?.operation, 'BatchUpdateFindingsV2');
    assert.equal(last?.accountId, ACCOUNT);
  });

  it('refuses what AWS refuses', async () => {
    await refused({ StatusId: 1 }, /One of MetadataUids or FindingIdentifiers/);
    await refused({ FindingIdentifiers: [FINDING], MetadataUids: ['metadata-1'], StatusId: 1 }, /together/);
    await refused({ FindingIdentifiers: [], StatusId: 1 }, /between 1 and 100/);
    const many = Array.from({ length: 101 }, (_, i) => ({ ...FINDING, FindingInfoUid: `f-${i}` }));
    await refused({ FindingIdentifiers: many, StatusId: 1 }, /between 1 and 100/);
    await refused({ MetadataUids: many.map((f) => f.FindingInfoUid), StatusId: 1 }, /between 1 and 100/);
    await refused(
      { FindingIdentifiers: [{ ...FINDING, CloudAccountUid: '' }], StatusId: 1 },
      /CloudAccountUid/,
    );
    await refused({ FindingIdentifiers: [FINDING] }, /At least one of Comment, SeverityId, StatusId/);
    await refused({ FindingIdentifiers: [FINDING], Comment: '' }, /Comment/);
    await refused({ FindingIdentifiers: [FINDING], Comment: 'x'.repeat(513) }, /Comment/);
    await refused({ FindingIdentifiers: [FINDING], SeverityId: 7 }, /SeverityId/);
    await refused({ FindingIdentifiers: [FINDING], StatusId: 6 }, /StatusId/);
    for (const SeverityId of [0, 1, 2, 3, 4, 5, 6, 99])
      await client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], SeverityId }));
    for (const StatusId of [0, 1, 2, 3, 4, 5, 99])
      await client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], StatusId }));
    await client.send(
      new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], Comment: 'x'.repeat(512) }),
    );
  });

  it("refuses a request not signed with the assumed role's credentials", async () => {
    const unsigned = await fetch(`${fake.securityHubUrl}/findingsv2/batchupdatev2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ FindingIdentifiers: [FINDING], StatusId: 2 }),
    });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const asCaller = new SecurityHubClient({
      endpoint: fake.securityHubUrl,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: CALLER,
    });
    try {
      await assert.rejects(
        asCaller.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], StatusId: 2 })),
        /securityhub:BatchUpdateFindingsV2/,
      );
    } finally {
      asCaller.destroy();
    }
  });

  it('answers a forced failure with its own error types', async () => {
    fake.failNext(1, 500, 'BatchUpdateFindingsV2');
    await assert.rejects(
      client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], StatusId: 2 })),
      (err: Error) => err.name === 'InternalServerException',
    );
  });

  it('throttles BatchUpdateFindings and BatchUpdateFindingsV2 together, per account and region', async () => {
    const release = fake.holdThrottleClock();
    try {
      fake.addFinding({ Id: 'asff-1', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' });
      let accepted = 0;
      for (let i = 0; ; i++) {
        const call =
          i % 2 === 0
            ? client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], StatusId: 2 }))
            : client.send(
                new BatchUpdateFindingsCommand({
                  FindingIdentifiers: [
                    { Id: 'asff-1', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' },
                  ],
                  Workflow: { Status: 'NOTIFIED' },
                }),
              );
        const ok = await call.then(
          () => true,
          (err: Error) => {
            assert.match(err.name, /LimitExceededException/);
            return false;
          },
        );
        if (!ok) break;
        accepted++;
      }
      // One burst of 100 for every request of the account and region, whichever operation it was.
      assert.ok(accepted >= 2, `${accepted}`);
      const taken = fake.securityHubRequests.filter((r) => r.accountId === ACCOUNT && r.status !== 429);
      assert.equal(taken.length, 100);
      assert.ok(
        fake.securityHubRequests.some((r) => r.operation === 'BatchUpdateFindings' && r.status === 200) &&
          fake.securityHubRequests.some((r) => r.operation === 'BatchUpdateFindingsV2' && r.status === 200),
      );
    } finally {
      release();
    }
  });
});
