import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AssumeRoleCommand, type AssumeRoleCommandInput, STSClient } from '@aws-sdk/client-sts';
import {
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandInput,
  BatchUpdateFindingsV2Command,
  type BatchUpdateFindingsV2CommandInput,
  GetFindingsCommand,
  SecurityHubClient,
  type SecurityHubClientConfig,
  type SeverityLabel,
  type WorkflowStatus,
} from '@aws-sdk/client-securityhub';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  type FakeAws,
  type OcsfIdentifier,
  type RecordedSecurityHubRequest,
  maxRequestsPerSecond,
  ocsfKey,
  startFakeAws,
} from './fake-aws.js';

const CALLER = {
  accessKeyId: 'AKIAVIGILTESTCALLER1',
  secretAccessKey: 'vigil/caller+secret0123456789abcdefGHIJK',
};
const ROLE = 'arn:aws:iam::111111111111:role/VigilSecurityHub';
const THROTTLE_ROLE = 'arn:aws:iam::222222222222:role/service-role/VigilThrottled';
const EXTERNAL_ID = 'vigil-ext-7f3a';
const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

function sts(fake: FakeAws, credentials = CALLER): STSClient {
  return new STSClient({ endpoint: fake.stsUrl, region: 'us-east-1', credentials, maxAttempts: 1 });
}

function hub(
  fake: FakeAws,
  credentials: SecurityHubClientConfig['credentials'],
  extra: SecurityHubClientConfig = {},
) {
  return new SecurityHubClient({
    endpoint: fake.securityHubUrl,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    ...extra,
  });
}

async function assume(fake: FakeAws, roleArn = ROLE, externalId = EXTERNAL_ID): Promise<Creds> {
  const out = await sts(fake).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'vigil', ExternalId: externalId }),
  );
  const c = out.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

/** Asserts the promise rejects with the SDK error `name` and HTTP `status`. */
async function rejectsWith(p: Promise<unknown>, name: string, status: number): Promise<Error> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error);
    assert.equal(err.name, name, err.message);
    const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
    assert.equal(meta?.httpStatusCode, status);
    return err;
  }
  assert.fail(`expected ${name}`);
}

const update = (
  ids: { Id: string; ProductArn: string }[],
  extra: Partial<BatchUpdateFindingsCommandInput> = {},
) => new BatchUpdateFindingsCommand({ FindingIdentifiers: ids, Workflow: { Status: 'NOTIFIED' }, ...extra });

describe('fake AWS (STS + Security Hub) driven by the real SDK', () => {
  let fake: FakeAws;
  let creds: Creds;

  before(async () => {
    fake = await startFakeAws({
      callerAccessKeyId: CALLER.accessKeyId,
      callerSecretAccessKey: CALLER.secretAccessKey,
      roles: { [ROLE]: { externalId: EXTERNAL_ID }, [THROTTLE_ROLE]: { externalId: EXTERNAL_ID } },
    });
    creds = await assume(fake);
  });
  after(() => fake.close());

  test('AssumeRole with the right external id hands out temporary credentials', async () => {
    const before = Date.now();
    const out = await sts(fake).send(
      new AssumeRoleCommand({
        RoleArn: ROLE,
        RoleSessionName: 'vigil@sync',
        ExternalId: EXTERNAL_ID,
        DurationSeconds: 900,
      }),
    );
    assert.match(out.Credentials?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/);
    assert.ok((out.Credentials?.SessionToken ?? '').length > 100);
    const expiration = out.Credentials?.Expiration;
    assert.ok(expiration instanceof Date);
    assert.ok(Math.abs(expiration.getTime() - (before + 900_000)) < 2000);
    assert.equal(
      out.AssumedRoleUser?.Arn,
      'arn:aws:sts::111111111111:assumed-role/VigilSecurityHub/vigil@sync',
    );
    assert.match(out.AssumedRoleUser?.AssumedRoleId ?? '', /^AROA[A-Z0-9]{17}:vigil@sync$/);
    const call = fake.assumeRoleCalls.at(-1);
    assert.deepEqual(
      { ...call, at: 0 },
      {
        roleArn: ROLE,
        externalId: EXTERNAL_ID,
        sessionName: 'vigil@sync',
        durationSeconds: 900,
        at: 0,
        status: 200,
        region: 'us-east-1',
      },
    );
  });

  test('AssumeRole refuses a wrong or missing external id and unknown roles with AccessDenied', async () => {
    const client = sts(fake);
    const assumeWith = (RoleArn: string, ExternalId?: string) =>
      client.send(new AssumeRoleCommand({ RoleArn, RoleSessionName: 'vigil', ExternalId }));
    const err = await rejectsWith(assumeWith(ROLE, 'wrong-external-id'), 'AccessDenied', 403);
    assert.match(err.message, /not authorized to perform: sts:AssumeRole/);
    await rejectsWith(assumeWith(ROLE), 'AccessDenied', 403);
    await rejectsWith(assumeWith('arn:aws:iam::111111111111:role/Other', EXTERNAL_ID), 'AccessDenied', 403);
    assert.equal(fake.assumeRoleCalls.at(-1)?.errorCode, 'AccessDenied');
  });

  test('STS verifies the signature, the access key and the input', async () => {
    const send = (client: STSClient, input: Partial<AssumeRoleCommandInput> = {}) =>
      client.send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'vigil', ExternalId: EXTERNAL_ID, ...input }),
      );
    await rejectsWith(
      send(sts(fake, { ...CALLER, secretAccessKey: 'not-the-secret' })),
      'SignatureDoesNotMatch',
      403,
    );
    await rejectsWith(
      send(sts(fake, { ...CALLER, accessKeyId: 'AKIAUNKNOWNUNKNOWN00' })),
      'InvalidClientTokenId',
      403,
    );
    // Issued credentials are not accepted by STS here (no role chaining).
    await rejectsWith(send(sts(fake, creds)), 'InvalidClientTokenId', 403);
    await rejectsWith(send(sts(fake), { RoleSessionName: 'bad name' }), 'ValidationError', 400);
    await rejectsWith(send(sts(fake), { RoleSessionName: 'x' }), 'ValidationError', 400);
    await rejectsWith(send(sts(fake), { DurationSeconds: 899 }), 'ValidationError', 400);
    await rejectsWith(send(sts(fake), { DurationSeconds: 43201 }), 'ValidationError', 400);
  });

  test('the endpoint can come from AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SECURITYHUB', async () => {
    process.env.AWS_ENDPOINT_URL_STS = fake.stsUrl;
    process.env.AWS_ENDPOINT_URL_SECURITYHUB = fake.securityHubUrl;
    try {
      const stsClient = new STSClient({ region: 'us-east-1', credentials: CALLER, maxAttempts: 1 });
      const out = await stsClient.send(
        new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'vigil-env', ExternalId: EXTERNAL_ID }),
      );
      const c = out.Credentials;
      assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
      const hubClient = new SecurityHubClient({
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: {
          accessKeyId: c.AccessKeyId,
          secretAccessKey: c.SecretAccessKey,
          sessionToken: c.SessionToken,
        },
      });
      const found = await hubClient.send(new GetFindingsCommand({ MaxResults: 1 }));
      assert.ok(Array.isArray(found.Findings));
    } finally {
      delete process.env.AWS_ENDPOINT_URL_STS;
      delete process.env.AWS_ENDPOINT_URL_SECURITYHUB;
    }
  });

  test('BatchUpdateFindings with the assumed credentials updates held findings, FindingNotFound otherwise', async () => {
    fake.addFinding({ Id: 'f-1', ProductArn: PRODUCT });
    fake.addFinding({ Id: 'f-2', ProductArn: PRODUCT });
    const out = await hub(fake, creds).send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [
          { Id: 'f-1', ProductArn: PRODUCT },
          { Id: 'f-2', ProductArn: PRODUCT },
          { Id: 'missing', ProductArn: PRODUCT },
        ],
        Workflow: { Status: 'RESOLVED' },
        Severity: { Label: 'HIGH' },
        Note: { Text: 'Resolved in Vigil by ana', UpdatedBy: 'vigil' },
      }),
    );
    assert.deepEqual(out.ProcessedFindings, [
      { Id: 'f-1', ProductArn: PRODUCT },
      { Id: 'f-2', ProductArn: PRODUCT },
    ]);
    assert.deepEqual(out.UnprocessedFindings, [
      {
        FindingIdentifier: { Id: 'missing', ProductArn: PRODUCT },
        ErrorCode: 'FindingNotFound',
        ErrorMessage: 'Finding Not Found',
      },
    ]);
    const f1 = fake.findings.get(`${PRODUCT}|f-1`);
    assert.equal(f1?.Workflow?.Status, 'RESOLVED');
    assert.equal(f1?.Severity?.Label, 'HIGH');
    assert.equal(f1?.Note?.Text, 'Resolved in Vigil by ana');
    assert.equal(f1?.Note?.UpdatedBy, 'vigil');
    assert.ok(Math.abs(Date.parse(f1?.Note?.UpdatedAt ?? '') - Date.now()) < 5000);
    assert.equal(f1?.updates, 1);

    const rec = fake.securityHubRequests.at(-1);
    assert.equal(rec?.status, 200);
    assert.equal(rec?.operation, 'BatchUpdateFindings');
    assert.equal(rec?.region, 'us-east-1');
    assert.equal(rec?.accountId, '111111111111');
    assert.equal(rec?.accessKeyId, creds.accessKeyId);
    assert.deepEqual((rec?.body as { Workflow: unknown }).Workflow, { Status: 'RESOLVED' });

    // Severity.Normalized alone maps to a label.
    await hub(fake, creds).send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [{ Id: 'f-2', ProductArn: PRODUCT }],
        Severity: { Normalized: 95 },
      }),
    );
    assert.equal(fake.findings.get(`${PRODUCT}|f-2`)?.Severity?.Label, 'CRITICAL');
  });

  test('GetFindings answers the held findings up to MaxResults', async () => {
    fake.addFinding({ Id: 'g-1', ProductArn: PRODUCT });
    const out = await hub(fake, creds).send(new GetFindingsCommand({ MaxResults: 1 }));
    assert.equal(out.Findings?.length, 1);
    assert.ok(out.NextToken);
    const all = await hub(fake, creds).send(new GetFindingsCommand({ MaxResults: 100 }));
    assert.equal(all.Findings?.length, fake.findings.size);
    assert.equal(fake.securityHubRequests.at(-1)?.operation, 'GetFindings');
  });

  test('requests signed wrongly, without the session token, for another region or as the caller are refused', async () => {
    fake.addFinding({ Id: 'auth-1', ProductArn: PRODUCT });
    const ids = [{ Id: 'auth-1', ProductArn: PRODUCT }];
    const count = fake.securityHubRequests.length;

    const wrongSecret = await rejectsWith(
      hub(fake, { ...creds, secretAccessKey: 'wrong-secret' }).send(update(ids)),
      'InvalidSignatureException',
      403,
    );
    assert.match(wrongSecret.message, /signature we calculated does not match/);
    await rejectsWith(
      hub(fake, { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }).send(update(ids)),
      'UnrecognizedClientException',
      403,
    );
    await rejectsWith(
      hub(fake, { ...creds, sessionToken: `${creds.sessionToken}x` }).send(update(ids)),
      'UnrecognizedClientException',
      403,
    );
    const wrongRegion = await rejectsWith(
      hub(fake, creds, { region: 'eu-west-1' }).send(update(ids)),
      'InvalidSignatureException',
      403,
    );
    assert.match(wrongRegion.message, /valid region/);
    await rejectsWith(hub(fake, CALLER).send(update(ids)), 'AccessDeniedException', 403);

    // The body changed after signing (same length, so Content-Length still matches).
    class Tamper extends NodeHttpHandler {
      override handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
        const [request] = args;
        const body: unknown = request.body;
        // The SDK hands the handler the serialized JSON as bytes (or a string, depending on the version).
        const text = body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : String(body);
        assert.ok(text.includes('NOTIFIED'));
        request.body = text.replace('NOTIFIED', 'RESOLVED');
        return super.handle(...args);
      }
    }
    await rejectsWith(
      hub(fake, creds, { requestHandler: new Tamper() }).send(update(ids)),
      'InvalidSignatureException',
      403,
    );

    const refused = fake.securityHubRequests.slice(count);
    assert.equal(refused.length, 6);
    assert.ok(refused.every((r) => r.status === 403));
    assert.equal(refused[3]?.region, 'eu-west-1');
    assert.equal(fake.findings.get(`${PRODUCT}|auth-1`)?.updates, 0);
  });

  test('expired assumed credentials are refused with ExpiredTokenException', async () => {
    const shortLived = await startFakeAws({
      callerAccessKeyId: CALLER.accessKeyId,
      callerSecretAccessKey: CALLER.secretAccessKey,
      roles: { [ROLE]: { externalId: EXTERNAL_ID } },
      credentialSeconds: 0,
    });
    try {
      const c = await assume(shortLived);
      await rejectsWith(hub(shortLived, c).send(new GetFindingsCommand({})), 'ExpiredTokenException', 403);
    } finally {
      await shortLived.close();
    }
  });

  test('BatchUpdateFindings input is validated as AWS does', async () => {
    const client = hub(fake, creds);
    const many = Array.from({ length: 101 }, (_, i) => ({ Id: `n-${i}`, ProductArn: PRODUCT }));
    await rejectsWith(client.send(update(many)), 'InvalidInputException', 400);
    await rejectsWith(client.send(update([])), 'InvalidInputException', 400);
    await rejectsWith(client.send(update([{ Id: '', ProductArn: PRODUCT }])), 'InvalidInputException', 400);
    await rejectsWith(
      client.send(update([{ Id: 'i'.repeat(513), ProductArn: PRODUCT }])),
      'InvalidInputException',
      400,
    );
    // 512 is still an Id.
    await client.send(update([{ Id: 'i'.repeat(512), ProductArn: PRODUCT }]));
    const one = [{ Id: 'v-1', ProductArn: PRODUCT }];
    await rejectsWith(
      client.send(update(one, { Note: { Text: 'x'.repeat(513), UpdatedBy: 'vigil' } })),
      'InvalidInputException',
      400,
    );
    await rejectsWith(
      client.send(update(one, { Note: { Text: 'ok', UpdatedBy: 'v'.repeat(513) } })),
      'InvalidInputException',
      400,
    );
    await rejectsWith(
      client.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: one })),
      'InvalidInputException',
      400,
    );
    await rejectsWith(
      client.send(update(one, { Workflow: { Status: 'DONE' as string as WorkflowStatus } })),
      'InvalidInputException',
      400,
    );
    await rejectsWith(
      client.send(update(one, { Severity: { Label: 'SEVERE' as string as SeverityLabel } })),
      'InvalidInputException',
      400,
    );
    await rejectsWith(
      client.send(update(one, { Severity: { Normalized: 101 } })),
      'InvalidInputException',
      400,
    );
    const rec = fake.securityHubRequests.at(-1);
    assert.equal(rec?.status, 400);
    assert.equal(rec?.errorType, 'InvalidInputException');

    // 512 characters is fine.
    fake.addFinding({ Id: 'v-1', ProductArn: PRODUCT });
    const ok = await client.send(update(one, { Note: { Text: 'x'.repeat(512), UpdatedBy: 'vigil' } }));
    assert.deepEqual(ok.ProcessedFindings, one);

    // Duplicated identifiers are not processed.
    const dup = await client.send(update([...one, ...one]));
    assert.deepEqual(dup.ProcessedFindings, []);
    assert.equal(dup.UnprocessedFindings?.[0]?.ErrorCode, 'DuplicatedFindingIdentifier');
    assert.equal(fake.findings.get(`${PRODUCT}|v-1`)?.updates, 1);
  });

  test('refuseFinding answers the identifier in UnprocessedFindings the given number of times', async () => {
    fake.addFinding({ Id: 'c-1', ProductArn: PRODUCT });
    fake.refuseFinding('c-1', PRODUCT, 'ConcurrentUpdateError', 1);
    const client = hub(fake, creds);
    const first = await client.send(update([{ Id: 'c-1', ProductArn: PRODUCT }]));
    assert.deepEqual(first.ProcessedFindings, []);
    assert.equal(first.UnprocessedFindings?.[0]?.ErrorCode, 'ConcurrentUpdateError');
    assert.deepEqual(first.UnprocessedFindings?.[0]?.FindingIdentifier, { Id: 'c-1', ProductArn: PRODUCT });
    assert.equal(fake.findings.get(`${PRODUCT}|c-1`)?.updates, 0);
    const second = await client.send(update([{ Id: 'c-1', ProductArn: PRODUCT }]));
    assert.deepEqual(second.ProcessedFindings, [{ Id: 'c-1', ProductArn: PRODUCT }]);
    assert.equal(fake.findings.get(`${PRODUCT}|c-1`)?.Workflow?.Status, 'NOTIFIED');
  });

  test('failNext(2, 500): two calls fail with InternalException, the third succeeds', async () => {
    fake.addFinding({ Id: 'e-1', ProductArn: PRODUCT });
    fake.failNext(2, 500);
    const client = hub(fake, creds);
    const ids = [{ Id: 'e-1', ProductArn: PRODUCT }];
    await rejectsWith(client.send(update(ids)), 'InternalException', 500);
    await rejectsWith(client.send(update(ids)), 'InternalException', 500);
    const ok = await client.send(update(ids));
    assert.deepEqual(ok.ProcessedFindings, ids);
    fake.failNext(1, 429);
    await rejectsWith(client.send(update(ids)), 'LimitExceededException', 429);
  });

  test('setLatency holds BatchUpdateFindings responses', async () => {
    fake.addFinding({ Id: 'l-1', ProductArn: PRODUCT });
    fake.setLatency(150);
    try {
      const started = Date.now();
      const pending = hub(fake, creds).send(update([{ Id: 'l-1', ProductArn: PRODUCT }]));
      await new Promise((r) => setTimeout(r, 75));
      // Received and applied while the answer is still held.
      assert.equal(fake.securityHubRequests.at(-1)?.operation, 'BatchUpdateFindings');
      assert.equal(fake.findings.get(`${PRODUCT}|l-1`)?.updates, 1);
      await pending;
      assert.ok(Date.now() - started >= 145);
    } finally {
      fake.setLatency(0);
    }
  });

  test('35 rapid calls in one account+region are throttled to the token bucket (burst 30, 10/s)', async () => {
    const throttled = await assume(fake, THROTTLE_ROLE);
    const client = hub(fake, throttled);
    const count = fake.securityHubRequests.length;
    const release = fake.holdThrottleClock();
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(
        Array.from({ length: 35 }, () => client.send(new GetFindingsCommand({ MaxResults: 1 }))),
      );
    } finally {
      release();
    }
    const rejected = results.filter((r) => r.status === 'rejected');
    assert.equal(rejected.length, 5, 'the 30 of the burst pass, the other 5 are throttled');
    for (const r of rejected) {
      const err = r.reason as Error & { $metadata?: { httpStatusCode?: number } };
      assert.equal(err.name, 'LimitExceededException');
      assert.equal(err.$metadata?.httpStatusCode, 429);
    }
    const mine = fake.securityHubRequests.slice(count);
    assert.equal(mine.length, 35);
    assert.ok(mine.every((r) => r.accountId === '222222222222'));
    // With its clock held, the bucket lets exactly its burst through, whatever the calls' pace.
    assert.equal(mine.filter((r) => r.status === 200).length, 30);
    assert.equal(mine.filter((r) => r.status === 429).length, 5);
    // The other account's bucket is untouched.
    await hub(fake, creds).send(new GetFindingsCommand({ MaxResults: 1 }));
  });
});

describe('maxRequestsPerSecond', () => {
  const req = (
    at: number,
    status = 200,
    accountId = 'a',
    region = 'us-east-1',
  ): RecordedSecurityHubRequest => ({
    at,
    status,
    accountId,
    region,
    accessKeyId: 'k',
    body: {},
    operation: 'BatchUpdateFindings',
  });

  test('counts the busiest sliding 1-second window per account and region', () => {
    assert.equal(maxRequestsPerSecond([]), 0);
    const reqs = [req(0), req(500), req(999), req(1000), req(1001), req(1002, 429)];
    assert.equal(maxRequestsPerSecond(reqs), 4); // 500, 999, 1000, 1001
    assert.equal(maxRequestsPerSecond(reqs, false), 5);
    const split = [req(0, 200, 'a'), req(1, 200, 'b'), req(2, 200, 'a', 'eu-west-1'), req(3, 200, 'a')];
    assert.equal(maxRequestsPerSecond(split), 2);
  });
});

// BatchUpdateFindingsV2 names a finding by its account, product uid and finding uid.
const V2_ACCOUNT = '123456789012';
const V2_ROLE = `arn:aws:iam::${V2_ACCOUNT}:role/VigilSecurityHubRoleV2`;
const FINDING: OcsfIdentifier = {
  CloudAccountUid: V2_ACCOUNT,
  FindingInfoUid: 'finding-1',
  MetadataProductUid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
};

describe("the fake Security Hub's BatchUpdateFindingsV2, driven by the real SDK", () => {
  let fake: FakeAws;
  let client: SecurityHubClient;

  before(async () => {
    fake = await startFakeAws({
      callerAccessKeyId: CALLER.accessKeyId,
      callerSecretAccessKey: CALLER.secretAccessKey,
      roles: { [V2_ROLE]: { externalId: EXTERNAL_ID } },
      ratePerSecond: 0.001,
      burst: 100,
    });
    client = hub(fake, await assume(fake, V2_ROLE));
    fake.addOcsfFinding({ ...FINDING, MetadataUid: 'metadata-1' });
  });

  after(async () => {
    client.destroy();
    await fake.close();
  });

  /** Refused as AWS refuses it: a ValidationException (400) saying what is wrong. */
  async function refused(input: BatchUpdateFindingsV2CommandInput, pattern: RegExp): Promise<void> {
    const err = await rejectsWith(
      client.send(new BatchUpdateFindingsV2Command(input)),
      'ValidationException',
      400,
    );
    assert.match(err.message, pattern);
  }

  test('applies StatusId, SeverityId and Comment to the findings named, and answers the others unprocessed', async () => {
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
    assert.equal(last?.accountId, V2_ACCOUNT);
  });

  test('refuses what AWS refuses', async () => {
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

  test("refuses a request not signed with the assumed role's credentials", async () => {
    const unsigned = await fetch(`${fake.securityHubUrl}/findingsv2/batchupdatev2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ FindingIdentifiers: [FINDING], StatusId: 2 }),
    });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const asCaller = hub(fake, CALLER);
    try {
      await assert.rejects(
        asCaller.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], StatusId: 2 })),
        /securityhub:BatchUpdateFindingsV2/,
      );
    } finally {
      asCaller.destroy();
    }
  });

  test('answers a forced failure with its own error types', async () => {
    fake.failNext(1, 500, 'BatchUpdateFindingsV2');
    await assert.rejects(
      client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [FINDING], StatusId: 2 })),
      (err: Error) => err.name === 'InternalServerException',
    );
  });

  test('throttles BatchUpdateFindings and BatchUpdateFindingsV2 together, per account and region', async () => {
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
            assert.match(err.name, i % 2 === 0 ? /ThrottlingException/ : /LimitExceededException/);
            return false;
          },
        );
        if (!ok) break;
        accepted++;
      }
      // One burst of 100 for every request of the account and region, whichever operation it was.
      assert.ok(accepted >= 2, `${accepted}`);
      const taken = fake.securityHubRequests.filter((r) => r.accountId === V2_ACCOUNT && r.status !== 429);
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

describe("the fake's role permissions and forced conflicts, driven by the real SDK", () => {
  const OLD_ROLE = 'arn:aws:iam::444444444444:role/VigilSecurityHubRoleBeforeOcsf';
  const FULL_ROLE = 'arn:aws:iam::444444444444:role/VigilSecurityHubRoleFull';
  const OLD_FINDING: OcsfIdentifier = { ...FINDING, CloudAccountUid: '444444444444' };
  let fake: FakeAws;

  before(async () => {
    fake = await startFakeAws({
      callerAccessKeyId: CALLER.accessKeyId,
      callerSecretAccessKey: CALLER.secretAccessKey,
      roles: {
        // A role made before OCSF support: no BatchUpdateFindingsV2.
        [OLD_ROLE]: {
          externalId: EXTERNAL_ID,
          actions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
        },
        [FULL_ROLE]: { externalId: EXTERNAL_ID, actions: ['SecurityHub:*'] },
      },
    });
    fake.addFinding({ Id: 'asff-old', ProductArn: PRODUCT });
    fake.addOcsfFinding(OLD_FINDING);
  });
  after(() => fake.close());

  test('a role whose actions lack BatchUpdateFindingsV2 is refused it with AccessDeniedException 403, as AWS words it', async () => {
    const client = hub(fake, await assume(fake, OLD_ROLE));
    try {
      const err = await rejectsWith(
        client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [OLD_FINDING], StatusId: 2 })),
        'AccessDeniedException',
        403,
      );
      assert.match(
        err.message,
        /^User: arn:aws:sts::444444444444:assumed-role\/VigilSecurityHubRoleBeforeOcsf\/vigil is not authorized to perform: securityhub:BatchUpdateFindingsV2 on resource: arn:aws:securityhub:us-east-1:444444444444:hub\/default/,
      );
      assert.equal(fake.ocsfFindings.get(ocsfKey(OLD_FINDING))?.updates, 0, 'nothing changed');
      // What its actions allow still works.
      await client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: 'asff-old', ProductArn: PRODUCT }],
          Workflow: { Status: 'NOTIFIED' },
        }),
      );
      await client.send(new GetFindingsCommand({ MaxResults: 1 }));
      assert.equal(fake.findings.get(`${PRODUCT}|asff-old`)?.Workflow?.Status, 'NOTIFIED');
    } finally {
      client.destroy();
    }
  });

  test('a wildcard action (any case) allows every Security Hub operation', async () => {
    const client = hub(fake, await assume(fake, FULL_ROLE));
    try {
      await client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [OLD_FINDING], StatusId: 2 }));
      assert.equal(fake.ocsfFindings.get(ocsfKey(OLD_FINDING))?.StatusId, 2);
    } finally {
      client.destroy();
    }
  });

  test('failNext(1, 409) answers BatchUpdateFindingsV2 with ConflictException; V1 has no 409', async () => {
    const client = hub(fake, await assume(fake, FULL_ROLE));
    try {
      fake.failNext(1, 409, 'BatchUpdateFindingsV2');
      await rejectsWith(
        client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [OLD_FINDING], StatusId: 1 })),
        'ConflictException',
        409,
      );
      await client.send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [OLD_FINDING], StatusId: 1 }));
      assert.equal(fake.ocsfFindings.get(ocsfKey(OLD_FINDING))?.StatusId, 1, 'only the next call failed');
      assert.throws(() => fake.failNext(1, 409), /BatchUpdateFindings has no 409 error/);
    } finally {
      client.destroy();
    }
  });
});
