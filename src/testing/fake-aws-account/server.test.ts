import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { EventBridgeClient, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { DescribeHubCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { startFakeAwsAccount, type FakeAwsAccount, type SubscriptionConfirmation } from './server.js';
import type { FakeCaller } from './types.js';

const CUSTOMER = '111122223333';
const VIGIL_ACCOUNT = '444455556666';
const OPERATOR: FakeCaller = {
  accessKeyId: 'AKIAOPERATOR00000001',
  secretAccessKey: 'operator/secret+0123456789abcdefghijklmno',
  arn: `arn:aws:iam::${CUSTOMER}:user/operator`,
  account: CUSTOMER,
};
const VIGIL: FakeCaller = {
  accessKeyId: 'AKIAVIGIL00000000001',
  secretAccessKey: 'vigil/secret+0123456789abcdefghijklmnopqr',
  arn: `arn:aws:iam::${VIGIL_ACCOUNT}:user/vigil`,
  account: VIGIL_ACCOUNT,
};
const EXTERNAL_ID = 'vigil-ext-7f3a9c';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const creds = (c: FakeCaller): Credentials => ({
  accessKeyId: c.accessKeyId,
  secretAccessKey: c.secretAccessKey,
});

function trustPolicy(principal: string, externalId: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: principal },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalId } },
      },
    ],
  };
}

const INLINE_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['securityhub:BatchUpdateFindings'], Resource: '*' }],
};

/** The SDK error `promise` rejects with, after checking its name and HTTP status. */
async function rejection(promise: Promise<unknown>, name: string, status: number): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error);
    assert.equal(err.name, name, err.message);
    assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, status);
    return err;
  }
  assert.fail(`expected ${name}`);
}

describe('fake AWS account', () => {
  let fake: FakeAwsAccount;
  const confirmations: SubscriptionConfirmation[] = [];
  const sts = (c: Credentials = creds(OPERATOR), region = 'us-east-1') =>
    new STSClient({ endpoint: fake.url, region, credentials: c, maxAttempts: 1 });
  const iam = (c: Credentials = creds(OPERATOR)) =>
    new IAMClient({ endpoint: fake.url, region: 'us-east-1', credentials: c, maxAttempts: 1 });
  const sns = (c: Credentials = creds(OPERATOR), region = 'us-east-1') =>
    new SNSClient({ endpoint: fake.url, region, credentials: c, maxAttempts: 1 });

  before(async () => {
    fake = await startFakeAwsAccount({
      callers: [OPERATOR, VIGIL],
      regions: ['us-east-1', 'eu-west-1'],
      deliverSubscriptionConfirmation: (c) => {
        confirmations.push(c);
      },
    });
  });
  after(() => fake.close());

  describe('SigV4', () => {
    test('a wrong secret is refused as AWS refuses it', async () => {
      const err = await rejection(
        sts({ ...creds(OPERATOR), secretAccessKey: 'not-the-secret' }).send(new GetCallerIdentityCommand({})),
        'SignatureDoesNotMatch',
        403,
      );
      assert.match(err.message, /signature we calculated does not match/);
      const call = fake.calls.at(-1);
      assert.equal(call?.errorCode, 'SignatureDoesNotMatch');
      assert.equal(call?.action, 'sts:GetCallerIdentity');
    });

    test('an unknown key is an invalid client token', async () => {
      await rejection(
        iam({ accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: 'x' }).send(
          new GetRoleCommand({ RoleName: 'x' }),
        ),
        'InvalidClientTokenId',
        403,
      );
    });

    test('a region not served is refused', async () => {
      await rejection(
        sns(creds(OPERATOR), 'ap-south-1').send(new CreateTopicCommand({ Name: 'elsewhere' })),
        'SignatureDoesNotMatch',
        403,
      );
      assert.deepEqual(fake.topics(CUSTOMER, 'ap-south-1'), []);
    });

    test('AWS_ENDPOINT_URL_<SERVICE> routes the SDK to the fake', async () => {
      assert.equal(fake.env.AWS_ENDPOINT_URL_EVENTBRIDGE, fake.url);
      const saved = process.env.AWS_ENDPOINT_URL_STS;
      process.env.AWS_ENDPOINT_URL_STS = fake.env.AWS_ENDPOINT_URL_STS;
      try {
        const client = new STSClient({ region: 'us-east-1', credentials: creds(VIGIL), maxAttempts: 1 });
        const out = await client.send(new GetCallerIdentityCommand({}));
        assert.equal(out.Arn, VIGIL.arn);
      } finally {
        if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
        else process.env.AWS_ENDPOINT_URL_STS = saved;
      }
    });
  });

  test('EventBridge and Security Hub are routed by the credential scope, denials in their shape', async () => {
    const events = new EventBridgeClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: creds(OPERATOR),
      maxAttempts: 1,
    });
    const hub = new SecurityHubClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: creds(OPERATOR),
      maxAttempts: 1,
    });
    const rules = await events.send(new ListRulesCommand({}));
    assert.deepEqual(rules.Rules ?? [], []);
    const described = await hub.send(new DescribeHubCommand({}));
    assert.equal(described.HubArn, `arn:aws:securityhub:us-east-1:${CUSTOMER}:hub/default`);
    assert.deepEqual(
      fake.calls.slice(-2).map((c) => [c.action, c.status]),
      [
        ['events:ListRules', 200],
        ['securityhub:DescribeHub', 200],
      ],
    );

    fake.deny('events:*');
    fake.deny('securityhub:DescribeHub');
    try {
      const refused = await rejection(events.send(new ListRulesCommand({})), 'AccessDeniedException', 400);
      assert.match(refused.message, /not authorized to perform: events:ListRules/);
      await rejection(hub.send(new DescribeHubCommand({})), 'AccessDeniedException', 403);
    } finally {
      fake.allow('events:*');
      fake.allow('securityhub:DescribeHub');
    }
    await rejection(
      new EventBridgeClient({
        endpoint: fake.url,
        region: 'us-east-1',
        credentials: { ...creds(OPERATOR), secretAccessKey: 'wrong' },
        maxAttempts: 1,
      }).send(new ListRulesCommand({})),
      'InvalidSignatureException',
      403,
    );
  });

  test('an unsigned request is refused in the protocol of the service it looks for', async () => {
    const response = await fetch(fake.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListRoles&Version=2010-05-08',
    });
    assert.equal(response.status, 403);
    const text = await response.text();
    assert.match(text, /<Code>MissingAuthenticationToken<\/Code>/);
    assert.match(text, /xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"/);
    assert.equal(fake.calls.at(-1)?.action, 'iam:ListRoles');
  });

  test('GetCallerIdentity names the caller', async () => {
    const out = await sts().send(new GetCallerIdentityCommand({}));
    assert.equal(out.Account, CUSTOMER);
    assert.equal(out.Arn, OPERATOR.arn);
    assert.match(out.UserId ?? '', /^AIDA[A-Z2-7]{17}$/);
  });

  describe('IAM roles', () => {
    test('CreateRole then GetRole gives back the trust policy, tags and inline policies', async () => {
      const trust = trustPolicy(VIGIL.arn, EXTERNAL_ID);
      const created = await iam().send(
        new CreateRoleCommand({
          RoleName: 'VigilRoundTrip',
          AssumeRolePolicyDocument: JSON.stringify(trust),
          Description: 'Vigil write-back',
          Tags: [{ Key: 'vigil:integration', Value: 'abc' }],
        }),
      );
      assert.equal(created.Role?.Arn, `arn:aws:iam::${CUSTOMER}:role/VigilRoundTrip`);
      assert.match(created.Role?.RoleId ?? '', /^AROA/);

      const got = await iam().send(new GetRoleCommand({ RoleName: 'VigilRoundTrip' }));
      // IAM answers documents percent-encoded; the SDK hands them over as they came.
      assert.match(got.Role?.AssumeRolePolicyDocument ?? '', /^%7B%22Version%22/);
      assert.deepEqual(JSON.parse(decodeURIComponent(got.Role?.AssumeRolePolicyDocument ?? '')), trust);
      assert.equal(got.Role?.Description, 'Vigil write-back');
      assert.equal(got.Role?.MaxSessionDuration, 3600);
      assert.ok(got.Role?.CreateDate instanceof Date);
      const tags = await iam().send(new ListRoleTagsCommand({ RoleName: 'VigilRoundTrip' }));
      assert.deepEqual(tags.Tags, [{ Key: 'vigil:integration', Value: 'abc' }]);

      await iam().send(
        new PutRolePolicyCommand({
          RoleName: 'VigilRoundTrip',
          PolicyName: 'writeback',
          PolicyDocument: JSON.stringify(INLINE_POLICY),
        }),
      );
      const policy = await iam().send(
        new GetRolePolicyCommand({ RoleName: 'VigilRoundTrip', PolicyName: 'writeback' }),
      );
      assert.deepEqual(JSON.parse(decodeURIComponent(policy.PolicyDocument ?? '')), INLINE_POLICY);

      const [role] = fake.roles(CUSTOMER).filter((r) => r.name === 'VigilRoundTrip');
      assert.deepEqual(role?.trustPolicy, trust);
      assert.deepEqual(role?.inlinePolicies, { writeback: INLINE_POLICY });
      assert.deepEqual(role?.tags, { 'vigil:integration': 'abc' });
    });

    test('a second role of the same name, whatever its case, already exists', async () => {
      const doc = JSON.stringify(trustPolicy(VIGIL.arn, EXTERNAL_ID));
      await iam().send(new CreateRoleCommand({ RoleName: 'VigilTwice', AssumeRolePolicyDocument: doc }));
      const err = await rejection(
        iam().send(new CreateRoleCommand({ RoleName: 'vigiltwice', AssumeRolePolicyDocument: doc })),
        'EntityAlreadyExistsException',
        409,
      );
      assert.match(err.message, /Role with name vigiltwice already exists/);
    });

    test('documents and names are checked as IAM checks them', async () => {
      await rejection(
        iam().send(new CreateRoleCommand({ RoleName: 'Bad', AssumeRolePolicyDocument: '{"Version":' })),
        'MalformedPolicyDocumentException',
        400,
      );
      const noSuchUser = JSON.stringify(
        trustPolicy(`arn:aws:iam::${VIGIL_ACCOUNT}:user/nobody`, EXTERNAL_ID),
      );
      const err = await rejection(
        iam().send(new CreateRoleCommand({ RoleName: 'Bad', AssumeRolePolicyDocument: noSuchUser })),
        'MalformedPolicyDocumentException',
        400,
      );
      assert.match(err.message, /Invalid principal in policy/);
      const withResource = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: VIGIL.arn }, Action: 'sts:AssumeRole', Resource: '*' },
        ],
      });
      await rejection(
        iam().send(new CreateRoleCommand({ RoleName: 'Bad', AssumeRolePolicyDocument: withResource })),
        'MalformedPolicyDocumentException',
        400,
      );
      const validation = await rejection(
        iam().send(
          new CreateRoleCommand({
            RoleName: 'has space',
            AssumeRolePolicyDocument: JSON.stringify(trustPolicy(VIGIL.arn, EXTERNAL_ID)),
          }),
        ),
        'ValidationError',
        400,
      );
      assert.match(validation.message, /at 'roleName' failed to satisfy constraint/);
      assert.equal(
        fake.roles(CUSTOMER).some((r) => r.name === 'Bad' || r.name === 'has space'),
        false,
      );
    });

    test('a role with inline policies cannot be deleted until they are', async () => {
      await iam().send(
        new CreateRoleCommand({
          RoleName: 'VigilDelete',
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy(VIGIL.arn, EXTERNAL_ID)),
        }),
      );
      await iam().send(
        new PutRolePolicyCommand({
          RoleName: 'VigilDelete',
          PolicyName: 'p',
          PolicyDocument: JSON.stringify(INLINE_POLICY),
        }),
      );
      const err = await rejection(
        iam().send(new DeleteRoleCommand({ RoleName: 'VigilDelete' })),
        'DeleteConflictException',
        409,
      );
      assert.equal(err.message, 'Cannot delete entity, must delete policies first.');
      await iam().send(new DeleteRolePolicyCommand({ RoleName: 'VigilDelete', PolicyName: 'p' }));
      await iam().send(new DeleteRoleCommand({ RoleName: 'VigilDelete' }));
      const gone = await rejection(
        iam().send(new GetRoleCommand({ RoleName: 'VigilDelete' })),
        'NoSuchEntityException',
        404,
      );
      assert.equal(gone.message, 'The role with name VigilDelete cannot be found.');
    });
  });

  describe('AssumeRole', () => {
    const roleArn = `arn:aws:iam::${CUSTOMER}:role/VigilWriteback`;
    before(async () => {
      await iam().send(
        new CreateRoleCommand({
          RoleName: 'VigilWriteback',
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy(VIGIL.arn, EXTERNAL_ID)),
        }),
      );
    });
    const assume = (externalId: string | undefined, c: Credentials = creds(VIGIL)) =>
      sts(c).send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: 'vigil-check',
          ...(externalId !== undefined ? { ExternalId: externalId } : {}),
        }),
      );

    test('succeeds with the external id, and the credentials act as the role', async () => {
      const out = await assume(EXTERNAL_ID);
      const c = out.Credentials;
      assert.match(c?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/);
      assert.equal(c?.SecretAccessKey?.length, 40);
      assert.ok((c?.SessionToken?.length ?? 0) > 100);
      assert.ok(c?.Expiration instanceof Date && c.Expiration.getTime() > Date.now() + 3500_000);
      const assumedArn = `arn:aws:sts::${CUSTOMER}:assumed-role/VigilWriteback/vigil-check`;
      assert.equal(out.AssumedRoleUser?.Arn, assumedArn);

      const session = {
        accessKeyId: c?.AccessKeyId ?? '',
        secretAccessKey: c?.SecretAccessKey ?? '',
        sessionToken: c?.SessionToken ?? '',
      };
      const who = await sts(session).send(new GetCallerIdentityCommand({}));
      assert.equal(who.Arn, assumedArn);
      assert.equal(who.Account, CUSTOMER);
      assert.match(who.UserId ?? '', /^AROA[A-Z2-7]{17}:vigil-check$/);

      // A session's key without its token is not a credential AWS knows.
      await rejection(
        sts({ accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey }).send(
          new GetCallerIdentityCommand({}),
        ),
        'InvalidClientTokenId',
        403,
      );
    });

    test('is refused without the external id, with a wrong one, and to another caller', async () => {
      for (const [externalId, c] of [
        [undefined, creds(VIGIL)],
        ['wrong-external-id', creds(VIGIL)],
        [EXTERNAL_ID, creds(OPERATOR)],
      ] as const) {
        const err = await rejection(assume(externalId, c), 'AccessDenied', 403);
        const who = c.accessKeyId === VIGIL.accessKeyId ? VIGIL.arn : OPERATOR.arn;
        assert.equal(
          err.message,
          `User: ${who} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        );
      }
      const attempts = fake.assumeRoleCalls.filter((a) => a.roleArn === roleArn);
      assert.deepEqual(
        attempts.slice(-3).map((a) => [a.externalId, a.status, a.errorCode]),
        [
          [undefined, 403, 'AccessDenied'],
          ['wrong-external-id', 403, 'AccessDenied'],
          [EXTERNAL_ID, 403, 'AccessDenied'],
        ],
      );
    });

    test('follows the trust policy as it is updated', async () => {
      await iam().send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: 'VigilWriteback',
          PolicyDocument: JSON.stringify(trustPolicy(VIGIL.arn, 'rotated-id')),
        }),
      );
      await rejection(assume(EXTERNAL_ID), 'AccessDenied', 403);
      await assume('rotated-id');
    });

    test("is limited to the role's MaxSessionDuration", async () => {
      const err = await rejection(
        sts(creds(VIGIL)).send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: 'vigil-check',
            ExternalId: 'rotated-id',
            DurationSeconds: 7200,
          }),
        ),
        'ValidationError',
        400,
      );
      assert.match(err.message, /exceeds the MaxSessionDuration set for this role/);
    });

    test('validates its input', async () => {
      const err = await rejection(
        sts(creds(VIGIL)).send(
          new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'x', ExternalId: 'a' }),
        ),
        'ValidationError',
        400,
      );
      assert.match(err.message, /^2 validation errors detected: .*'roleSessionName'.*'externalId'/);
    });
  });

  describe('SNS', () => {
    test('CreateTopic is idempotent, and refuses the same name with other tags', async () => {
      const input = { Name: 'vigil-idem', Tags: [{ Key: 'vigil:integration', Value: 'abc' }] };
      const first = await sns().send(new CreateTopicCommand(input));
      const again = await sns().send(new CreateTopicCommand(input));
      assert.equal(first.TopicArn, `arn:aws:sns:us-east-1:${CUSTOMER}:vigil-idem`);
      assert.equal(again.TopicArn, first.TopicArn);
      const err = await rejection(
        sns().send(
          new CreateTopicCommand({ Name: 'vigil-idem', Tags: [{ Key: 'vigil:integration', Value: 'xyz' }] }),
        ),
        'InvalidParameterException',
        400,
      );
      assert.equal(err.message, 'Invalid parameter: Tags Reason: Topic already exists with different tags');
      const tags = await sns().send(new ListTagsForResourceCommand({ ResourceArn: first.TopicArn }));
      assert.deepEqual(tags.Tags, [{ Key: 'vigil:integration', Value: 'abc' }]);
      await rejection(
        sns().send(new CreateTopicCommand({ Name: 'no spaces allowed' })),
        'InvalidParameterException',
        400,
      );
    });

    test('topic policies are stored and checked', async () => {
      const { TopicArn } = await sns().send(new CreateTopicCommand({ Name: 'vigil-policy' }));
      const before = await sns().send(new GetTopicAttributesCommand({ TopicArn }));
      assert.match(before.Attributes?.Policy ?? '', /__default_statement_ID/);
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'events',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: TopicArn,
          },
        ],
      };
      await sns().send(
        new SetTopicAttributesCommand({
          TopicArn,
          AttributeName: 'Policy',
          AttributeValue: JSON.stringify(policy),
        }),
      );
      const got = await sns().send(new GetTopicAttributesCommand({ TopicArn }));
      assert.deepEqual(JSON.parse(got.Attributes?.Policy ?? ''), policy);
      await rejection(
        sns().send(
          new SetTopicAttributesCommand({ TopicArn, AttributeName: 'Policy', AttributeValue: '{not json' }),
        ),
        'InvalidParameterException',
        400,
      );
      await sns().send(new DeleteTopicCommand({ TopicArn }));
      const gone = await rejection(
        sns().send(new GetTopicAttributesCommand({ TopicArn })),
        'NotFoundException',
        404,
      );
      assert.equal(gone.message, 'Topic does not exist');
    });

    test('an https subscription waits for its confirmation', async () => {
      const { TopicArn = '' } = await sns().send(new CreateTopicCommand({ Name: 'vigil-sub' }));
      const endpoint = 'https://vigil.example.com/api/v1/integrations/abc/sns';
      const out = await sns().send(new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: endpoint }));
      assert.equal(out.SubscriptionArn, 'pending confirmation');
      await fake.deliveriesSettled();
      const c = confirmations.find((x) => x.topicArn === TopicArn);
      assert.ok(c);
      assert.equal(c.endpoint, endpoint);
      assert.equal(c.account, CUSTOMER);
      assert.equal(
        c.subscribeUrl,
        `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TopicArn)}&Token=${c.token}`,
      );
      const listed = await sns().send(new ListSubscriptionsByTopicCommand({ TopicArn }));
      assert.equal(listed.Subscriptions?.[0]?.SubscriptionArn, 'PendingConfirmation');
      await rejection(
        sns().send(new UnsubscribeCommand({ SubscriptionArn: 'pending confirmation' })),
        'InvalidParameterException',
        400,
      );

      assert.equal(fake.confirmSubscription(TopicArn, 'not-the-token'), undefined);
      const arn = fake.confirmSubscription(TopicArn, c.token);
      assert.equal(arn, c.subscriptionArn);
      const attributes = await sns().send(new GetSubscriptionAttributesCommand({ SubscriptionArn: arn }));
      assert.equal(attributes.Attributes?.PendingConfirmation, 'false');
      assert.equal(attributes.Attributes?.Endpoint, endpoint);
      assert.equal(attributes.Attributes?.Protocol, 'https');

      const again = await sns().send(
        new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: endpoint }),
      );
      assert.equal(again.SubscriptionArn, arn);
      assert.equal(
        fake.topics(CUSTOMER, 'us-east-1').find((t) => t.arn === TopicArn)?.subscriptions.length,
        1,
      );
    });

    test("a delivery policy past SNS's bounds is refused, one within them taken", async () => {
      const { TopicArn } = await sns().send(new CreateTopicCommand({ Name: 'vigil-retries' }));
      const policy = (retry: Record<string, unknown>) => ({
        DeliveryPolicy: JSON.stringify({ healthyRetryPolicy: retry }),
      });
      const subscribe = (retry: Record<string, unknown>) =>
        sns().send(
          new SubscribeCommand({
            TopicArn,
            Protocol: 'https',
            Endpoint: 'https://vigil.example.com/sns/retries',
            Attributes: policy(retry),
          }),
        );
      // 61 retries a minute apart: 3,660 s, past SNS's hour.
      const long = { numRetries: 61, minDelayTarget: 60, maxDelayTarget: 60, numMaxDelayRetries: 61 };
      await rejection(subscribe(long), 'InvalidParameterException', 400);
      await rejection(
        subscribe({ numRetries: 101, numNoDelayRetries: 101 }),
        'InvalidParameterException',
        400,
      );
      await rejection(
        subscribe({ numRetries: 3, minDelayTarget: 30, maxDelayTarget: 10 }),
        'InvalidParameterException',
        400,
      );
      // AWS's own example: 20 retries, 10 to 30 s.
      const example = {
        numRetries: 20,
        minDelayTarget: 10,
        maxDelayTarget: 30,
        numMinDelayRetries: 3,
        numMaxDelayRetries: 17,
        numNoDelayRetries: 0,
        backoffFunction: 'exponential',
      };
      assert.equal((await subscribe(example)).SubscriptionArn, 'pending confirmation');
    });

    test('an http endpoint does not match the https protocol', async () => {
      const { TopicArn } = await sns().send(new CreateTopicCommand({ Name: 'vigil-http' }));
      const err = await rejection(
        sns().send(
          new SubscribeCommand({ TopicArn, Protocol: 'https', Endpoint: 'http://vigil.example.com/sns' }),
        ),
        'InvalidParameterException',
        400,
      );
      assert.equal(err.message, 'Invalid parameter: Endpoint must match the specified protocol');
    });

    test('topics are per region', async () => {
      await sns(creds(OPERATOR), 'eu-west-1').send(new CreateTopicCommand({ Name: 'vigil-eu' }));
      assert.deepEqual(
        fake.topics(CUSTOMER, 'eu-west-1').map((t) => t.arn),
        [`arn:aws:sns:eu-west-1:${CUSTOMER}:vigil-eu`],
      );
      await rejection(
        sns().send(new GetTopicAttributesCommand({ TopicArn: `arn:aws:sns:eu-west-1:${CUSTOMER}:vigil-eu` })),
        'InvalidParameterException',
        400,
      );
    });
  });

  test('deny refuses the action with AWS wording, and calls record what mutates', async () => {
    const from = fake.calls.length;
    await sns().send(
      new ListSubscriptionsByTopicCommand({ TopicArn: `arn:aws:sns:us-east-1:${CUSTOMER}:vigil-idem` }),
    );
    fake.deny('sns:CreateTopic', OPERATOR.arn);
    try {
      const err = await rejection(
        sns().send(new CreateTopicCommand({ Name: 'vigil-denied' })),
        'AuthorizationErrorException',
        403,
      );
      assert.equal(
        err.message,
        `User: ${OPERATOR.arn} is not authorized to perform: sns:CreateTopic on resource: arn:aws:sns:us-east-1:${CUSTOMER}:vigil-denied because no identity-based policy allows the sns:CreateTopic action`,
      );
      assert.equal((err as { Code?: string }).Code, 'AuthorizationError');
      // Another caller is not denied.
      await sns(creds(VIGIL)).send(new CreateTopicCommand({ Name: 'vigil-denied' }));
    } finally {
      fake.allow('sns:CreateTopic', OPERATOR.arn);
    }
    assert.deepEqual(
      fake.calls.slice(from).map((c) => [c.action, c.account, c.mutating, c.status, c.errorCode]),
      [
        ['sns:ListSubscriptionsByTopic', CUSTOMER, false, 200, undefined],
        ['sns:CreateTopic', CUSTOMER, true, 403, 'AuthorizationError'],
        ['sns:CreateTopic', VIGIL_ACCOUNT, true, 200, undefined],
      ],
    );
    assert.deepEqual(fake.calls.at(-1)?.input, { Name: 'vigil-denied' });
    assert.equal(
      fake.topics(CUSTOMER, 'us-east-1').some((t) => t.name === 'vigil-denied'),
      false,
    );
  });
});
