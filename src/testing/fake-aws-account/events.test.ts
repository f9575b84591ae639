import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DeleteRuleCommand,
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  EventBridgeServiceException,
  ListApiDestinationsCommand,
  ListConnectionsCommand,
  ListRulesCommand,
  ListTagsForResourceCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TagResourceCommand,
  TestEventPatternCommand,
  UntagResourceCommand,
  UpdateApiDestinationCommand,
  UpdateConnectionCommand,
} from '@aws-sdk/client-eventbridge';
import { startFakeAwsAccount, type FakeAwsAccount } from './server.js';
import type { FakeCaller } from './types.js';

const OPERATOR: FakeCaller = {
  accessKeyId: 'AKIAOPERATOR00000001',
  secretAccessKey: 'operator-secret',
  arn: 'arn:aws:iam::111122223333:user/operator',
  account: '111122223333',
};
const OTHER: FakeCaller = {
  accessKeyId: 'AKIAOTHERACCOUNT0001',
  secretAccessKey: 'other-secret',
  arn: 'arn:aws:iam::444455556666:user/other',
  account: '444455556666',
};
const REGION = 'us-east-1';

// A real Security Hub event; provenance in test/fixtures/securityhub/SOURCES.md.
const IMPORTED_EVENT = fs.readFileSync(
  new URL(
    '../../../test/fixtures/securityhub/events/source_layer_test_test_json_data_CIS-1.4.json',
    import.meta.url,
  ),
  'utf8',
);

const PATTERN = JSON.stringify({
  source: ['aws.securityhub'],
  'detail-type': ['Security Hub Findings - Imported'],
  detail: { findings: { Workflow: { Status: ['NEW'] }, RecordState: ['ACTIVE'] } },
});
const TOPIC = `arn:aws:sns:${REGION}:${OPERATOR.account}:vigil-findings`;
const ROLE = `arn:aws:iam::${OPERATOR.account}:role/vigil-api-destination`;

interface Refusal {
  name: string;
  message: string;
  status: number | undefined;
}

async function refusal(call: Promise<unknown>): Promise<Refusal> {
  try {
    await call;
  } catch (err) {
    if (err instanceof EventBridgeServiceException)
      return { name: err.name, message: err.message, status: err.$metadata.httpStatusCode };
    throw err;
  }
  return assert.fail('expected EventBridge to refuse the call');
}

describe('fake EventBridge, through the official SDK', () => {
  let fake: FakeAwsAccount;
  let eb: EventBridgeClient;
  const clientFor = (caller: FakeCaller, region = REGION) =>
    new EventBridgeClient({
      region,
      endpoint: fake.url,
      credentials: { accessKeyId: caller.accessKeyId, secretAccessKey: caller.secretAccessKey },
      // LimitExceededException counts as throttling for the SDK; one attempt shows the answer itself.
      maxAttempts: 1,
    });

  before(async () => {
    fake = await startFakeAwsAccount({ callers: [OPERATOR, OTHER], regions: [REGION, 'eu-west-1'] });
    eb = clientFor(OPERATOR);
  });
  after(async () => {
    eb.destroy();
    await fake.close();
  });

  describe('rules', () => {
    it('PutRule creates a rule DescribeRule and ListRules show', async () => {
      const created = await eb.send(
        new PutRuleCommand({
          Name: 'vigil-securityhub',
          EventPattern: PATTERN,
          Description: 'Security Hub findings to Vigil',
          Tags: [{ Key: 'managed-by', Value: 'vigil' }],
        }),
      );
      assert.equal(created.RuleArn, `arn:aws:events:${REGION}:${OPERATOR.account}:rule/vigil-securityhub`);

      const described = await eb.send(new DescribeRuleCommand({ Name: 'vigil-securityhub' }));
      assert.equal(described.Arn, created.RuleArn);
      assert.equal(described.EventPattern, PATTERN);
      assert.equal(described.State, 'ENABLED');
      assert.equal(described.EventBusName, 'default');
      assert.equal(described.Description, 'Security Hub findings to Vigil');
      assert.equal(described.CreatedBy, OPERATOR.account);

      await eb.send(new PutRuleCommand({ Name: 'other-rule', ScheduleExpression: 'rate(5 minutes)' }));
      const listed = await eb.send(new ListRulesCommand({ NamePrefix: 'vigil-' }));
      assert.deepEqual(
        listed.Rules?.map((r) => r.Name),
        ['vigil-securityhub'],
      );

      const [rule] = fake.services.events
        .rules(OPERATOR.account, REGION)
        .filter((r) => r.name === 'vigil-securityhub');
      assert.deepEqual(rule?.eventPattern, JSON.parse(PATTERN));
      assert.deepEqual(rule?.tags, { 'managed-by': 'vigil' });
      assert.ok(fake.calls.some((c) => c.action === 'events:PutRule' && c.mutating && c.status === 200));
    });

    it('PutRule on an existing rule replaces it: omitted members are unset, its tags are kept', async () => {
      await eb.send(
        new PutRuleCommand({
          Name: 'vigil-securityhub',
          EventPattern: PATTERN,
          State: 'DISABLED',
          Tags: [{ Key: 'ignored', Value: 'on-update' }],
        }),
      );
      const described = await eb.send(new DescribeRuleCommand({ Name: 'vigil-securityhub' }));
      assert.equal(described.State, 'DISABLED');
      assert.equal(described.Description, undefined);
      const { Tags } = await eb.send(new ListTagsForResourceCommand({ ResourceARN: described.Arn }));
      assert.deepEqual(Tags, [{ Key: 'managed-by', Value: 'vigil' }]);

      await eb.send(
        new TagResourceCommand({ ResourceARN: described.Arn, Tags: [{ Key: 'team', Value: 'sec' }] }),
      );
      await eb.send(new UntagResourceCommand({ ResourceARN: described.Arn, TagKeys: ['managed-by'] }));
      const after = await eb.send(new ListTagsForResourceCommand({ ResourceARN: described.Arn }));
      assert.deepEqual(after.Tags, [{ Key: 'team', Value: 'sec' }]);
    });

    it('refuses what EventBridge refuses', async () => {
      const badName = await refusal(eb.send(new PutRuleCommand({ Name: 'bad name', EventPattern: PATTERN })));
      assert.equal(badName.name, 'ValidationException');
      assert.equal(badName.status, 400);
      assert.equal(
        badName.message,
        "1 validation error detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
      );

      const neither = await refusal(eb.send(new PutRuleCommand({ Name: 'empty' })));
      assert.deepEqual(
        [neither.name, neither.message],
        ['ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.'],
      );

      const notAnArray = await refusal(
        eb.send(new PutRuleCommand({ Name: 'bad-pattern', EventPattern: '{"source":"aws.securityhub"}' })),
      );
      assert.deepEqual(
        [notAnArray.name, notAnArray.message],
        [
          'InvalidEventPatternException',
          'Event pattern is not valid. Reason: "source" must be an object or an array',
        ],
      );
      const notJson = await refusal(
        eb.send(new PutRuleCommand({ Name: 'bad-pattern', EventPattern: '{source' })),
      );
      assert.equal(notJson.name, 'InvalidEventPatternException');
      assert.match(notJson.message, /^Event pattern is not valid\. Reason: /);

      const long = JSON.stringify({ source: ['x'.repeat(4100)] });
      const tooLong = await refusal(eb.send(new PutRuleCommand({ Name: 'long', EventPattern: long })));
      assert.equal(tooLong.name, 'ValidationException');
      assert.match(
        tooLong.message,
        /at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to 4096/,
      );

      const state = await refusal(
        eb.send(new PutRuleCommand({ Name: 'x', EventPattern: PATTERN, State: 'ON' as 'ENABLED' })),
      );
      assert.match(state.message, /Member must satisfy enum value set: \[ENABLED, DISABLED,/);

      const missing = await refusal(eb.send(new DescribeRuleCommand({ Name: 'no-such-rule' })));
      assert.deepEqual(
        [missing.name, missing.message, missing.status],
        ['ResourceNotFoundException', 'Rule no-such-rule does not exist on EventBus default.', 400],
      );
      const otherBus = await refusal(
        eb.send(new DescribeRuleCommand({ Name: 'vigil-securityhub', EventBusName: 'custom' })),
      );
      assert.deepEqual(
        [otherBus.name, otherBus.message],
        ['ResourceNotFoundException', 'Event bus custom does not exist.'],
      );
      assert.deepEqual(
        fake.services.events
          .rules(OPERATOR.account, REGION)
          .map((r) => r.name)
          .sort(),
        ['other-rule', 'vigil-securityhub'],
        'nothing refused was created',
      );
    });

    it('keeps each account and region apart', async () => {
      const euRule = await refusal(
        clientFor(OPERATOR, 'eu-west-1').send(new DescribeRuleCommand({ Name: 'vigil-securityhub' })),
      );
      assert.equal(euRule.name, 'ResourceNotFoundException');
      const otherAccount = await refusal(
        clientFor(OTHER).send(new DescribeRuleCommand({ Name: 'vigil-securityhub' })),
      );
      assert.equal(otherAccount.name, 'ResourceNotFoundException');
      assert.equal(fake.services.events.rules(OTHER.account, REGION).length, 0);
    });

    it('checks the signature before anything else', async () => {
      const forged = new EventBridgeClient({
        region: REGION,
        endpoint: fake.url,
        credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: 'wrong-secret' },
        maxAttempts: 1,
      });
      const refused = await refusal(forged.send(new DescribeRuleCommand({ Name: 'vigil-securityhub' })));
      forged.destroy();
      assert.equal(refused.name, 'InvalidSignatureException');
      assert.equal(refused.status, 403);
    });
  });

  describe('targets', () => {
    before(async () => {
      await eb.send(new PutRuleCommand({ Name: 'with-targets', EventPattern: PATTERN }));
    });

    it('PutTargets adds and replaces by Id; ListTargetsByRule lists them as sent', async () => {
      const put = await eb.send(
        new PutTargetsCommand({ Rule: 'with-targets', Targets: [{ Id: 'SecurityHubTopic', Arn: TOPIC }] }),
      );
      assert.equal(put.FailedEntryCount, 0);
      await eb.send(
        new PutTargetsCommand({
          Rule: 'with-targets',
          Targets: [{ Id: 'SecurityHubTopic', Arn: TOPIC, Input: '{"replaced":true}' }],
        }),
      );
      const { Targets } = await eb.send(new ListTargetsByRuleCommand({ Rule: 'with-targets' }));
      assert.deepEqual(Targets, [{ Id: 'SecurityHubTopic', Arn: TOPIC, Input: '{"replaced":true}' }]);
    });

    it('an API destination target needs a RoleArn', async () => {
      const destination = `arn:aws:events:${REGION}:${OPERATOR.account}:api-destination/vigil/8d3f0b5e-2d7c-4f0e-9e55-0b1a6c1f2e3d`;
      const refused = await refusal(
        eb.send(
          new PutTargetsCommand({ Rule: 'with-targets', Targets: [{ Id: 'Vigil', Arn: destination }] }),
        ),
      );
      assert.deepEqual(
        [refused.name, refused.message],
        ['ValidationException', `RoleArn is required for target ${destination}.`],
      );
      await eb.send(
        new PutTargetsCommand({
          Rule: 'with-targets',
          Targets: [{ Id: 'Vigil', Arn: destination, RoleArn: ROLE }],
        }),
      );
      const [rule] = fake.services.events
        .rules(OPERATOR.account, REGION)
        .filter((r) => r.name === 'with-targets');
      assert.deepEqual(
        rule?.targets.map((t) => [t.Id, t.RoleArn]),
        [
          ['SecurityHubTopic', undefined],
          ['Vigil', ROLE],
        ],
      );
    });

    it('a rule has at most 5 targets, a request at most 10', async () => {
      const more = ['A', 'B', 'C', 'D'].map((Id) => ({ Id, Arn: TOPIC }));
      const tooMany = await refusal(eb.send(new PutTargetsCommand({ Rule: 'with-targets', Targets: more })));
      assert.deepEqual(
        [tooMany.name, tooMany.message, tooMany.status],
        ['LimitExceededException', 'The requested resource exceeds the maximum number allowed.', 400],
      );
      const eleven = Array.from({ length: 11 }, (_, i) => ({ Id: `T${i}`, Arn: TOPIC }));
      const tooBig = await refusal(eb.send(new PutTargetsCommand({ Rule: 'with-targets', Targets: eleven })));
      assert.equal(tooBig.name, 'ValidationException');
      assert.match(
        tooBig.message,
        /at 'targets' failed to satisfy constraint: Member must have length less than or equal to 10/,
      );
      const badId = await refusal(
        eb.send(new PutTargetsCommand({ Rule: 'with-targets', Targets: [{ Id: 'no spaces', Arn: TOPIC }] })),
      );
      assert.match(badId.message, /Value 'no spaces' at 'targets.1.member.id' failed to satisfy constraint/);
      const noRule = await refusal(
        eb.send(new PutTargetsCommand({ Rule: 'no-such-rule', Targets: [{ Id: 'A', Arn: TOPIC }] })),
      );
      assert.equal(noRule.name, 'ResourceNotFoundException');
      assert.equal(
        fake.services.events.rules(OPERATOR.account, REGION).find((r) => r.name === 'with-targets')?.targets
          .length,
        2,
      );
    });

    it('DeleteRule refuses while the rule has targets, and succeeds for a rule already gone', async () => {
      const refused = await refusal(eb.send(new DeleteRuleCommand({ Name: 'with-targets' })));
      assert.deepEqual(
        [refused.name, refused.message],
        ['ValidationException', "Rule can't be deleted since it has targets."],
      );
      const removed = await eb.send(
        new RemoveTargetsCommand({ Rule: 'with-targets', Ids: ['SecurityHubTopic', 'Vigil'] }),
      );
      assert.equal(removed.FailedEntryCount, 0);
      await eb.send(new DeleteRuleCommand({ Name: 'with-targets' }));
      await eb.send(new DeleteRuleCommand({ Name: 'with-targets' }));
      assert.equal(
        fake.services.events.rules(OPERATOR.account, REGION).some((r) => r.name === 'with-targets'),
        false,
      );
    });
  });

  describe('TestEventPattern', () => {
    it('matches a real Security Hub event as the rule would', async () => {
      const yes = await eb.send(
        new TestEventPatternCommand({ EventPattern: PATTERN, Event: IMPORTED_EVENT }),
      );
      assert.equal(yes.Result, true);
      const echo = JSON.parse(IMPORTED_EVENT) as { detail: { findings: { Workflow: { Status: string } }[] } };
      echo.detail.findings[0]!.Workflow.Status = 'NOTIFIED';
      const no = await eb.send(
        new TestEventPatternCommand({ EventPattern: PATTERN, Event: JSON.stringify(echo) }),
      );
      assert.equal(no.Result, false);
    });

    it('refuses an event without the envelope and an invalid pattern', async () => {
      const event = JSON.parse(IMPORTED_EVENT) as Record<string, unknown>;
      delete event['detail-type'];
      const noType = await refusal(
        eb.send(new TestEventPatternCommand({ EventPattern: PATTERN, Event: JSON.stringify(event) })),
      );
      assert.deepEqual(
        [noType.name, noType.message],
        ['ValidationException', 'Parameter Event is not valid.'],
      );
      const notJson = await refusal(
        eb.send(new TestEventPatternCommand({ EventPattern: PATTERN, Event: 'plain text' })),
      );
      assert.deepEqual(
        [notJson.name, notJson.message],
        ['ValidationException', 'Parameter Event is not valid.'],
      );
      const badPattern = await refusal(
        eb.send(new TestEventPatternCommand({ EventPattern: '{"source":[]}', Event: IMPORTED_EVENT })),
      );
      assert.deepEqual(
        [badPattern.name, badPattern.message],
        ['InvalidEventPatternException', 'Event pattern is not valid. Reason: Empty arrays are not allowed'],
      );
    });
  });

  describe('connections and API destinations', () => {
    let connectionArn = '';

    it('CreateConnection stores the API key; DescribeConnection never shows its value', async () => {
      const created = await eb.send(
        new CreateConnectionCommand({
          Name: 'vigil',
          AuthorizationType: 'API_KEY',
          AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'X-Api-Key', ApiKeyValue: 'vigil-key-1' } },
          Description: 'Vigil intake',
        }),
      );
      connectionArn = created.ConnectionArn ?? '';
      assert.match(
        connectionArn,
        /^arn:aws:events:us-east-1:111122223333:connection\/vigil\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      assert.equal(created.ConnectionState, 'AUTHORIZED');
      assert.ok(created.CreationTime instanceof Date);

      const described = await eb.send(new DescribeConnectionCommand({ Name: 'vigil' }));
      assert.deepEqual(described.AuthParameters?.ApiKeyAuthParameters, { ApiKeyName: 'X-Api-Key' });
      assert.equal(described.AuthorizationType, 'API_KEY');
      assert.match(
        described.SecretArn ?? '',
        /^arn:aws:secretsmanager:us-east-1:111122223333:secret:events!connection\/vigil\//,
      );
      assert.doesNotMatch(JSON.stringify(described), /vigil-key-1/);
      assert.deepEqual(fake.services.events.connections(OPERATOR.account, REGION)[0]?.apiKey, {
        name: 'X-Api-Key',
        value: 'vigil-key-1',
      });

      const listed = await eb.send(new ListConnectionsCommand({ NamePrefix: 'vig' }));
      assert.deepEqual(
        listed.Connections?.map((c) => [c.Name, c.AuthorizationType, c.ConnectionState]),
        [['vigil', 'API_KEY', 'AUTHORIZED']],
      );
    });

    it('refuses a duplicate, a key with a colon, another type’s parameters and tags', async () => {
      const auth = { ApiKeyAuthParameters: { ApiKeyName: 'X-Api-Key', ApiKeyValue: 'k' } };
      const duplicate = await refusal(
        eb.send(
          new CreateConnectionCommand({ Name: 'vigil', AuthorizationType: 'API_KEY', AuthParameters: auth }),
        ),
      );
      assert.deepEqual(
        [duplicate.name, duplicate.message],
        ['ResourceAlreadyExistsException', 'Connection vigil already exists.'],
      );

      const colon = await refusal(
        eb.send(
          new CreateConnectionCommand({
            Name: 'colon',
            AuthorizationType: 'API_KEY',
            AuthParameters: {
              ApiKeyAuthParameters: { ApiKeyName: 'Authorization: Bearer', ApiKeyValue: 'k' },
            },
          }),
        ),
      );
      assert.equal(colon.name, 'ValidationException');
      assert.match(
        colon.message,
        /at 'authParameters.apiKeyAuthParameters.apiKeyName' failed to satisfy constraint/,
      );

      const mixed = await refusal(
        eb.send(
          new CreateConnectionCommand({
            Name: 'mixed',
            AuthorizationType: 'API_KEY',
            AuthParameters: { ...auth, BasicAuthParameters: { Username: 'u', Password: 'p' } },
          }),
        ),
      );
      assert.equal(mixed.name, 'ValidationException');
      const missing = await refusal(
        eb.send(
          new CreateConnectionCommand({
            Name: 'missing',
            AuthorizationType: 'API_KEY',
            AuthParameters: { BasicAuthParameters: { Username: 'u', Password: 'p' } },
          }),
        ),
      );
      assert.equal(missing.name, 'ValidationException');

      const tagged = await refusal(
        eb.send(new TagResourceCommand({ ResourceARN: connectionArn, Tags: [{ Key: 'a', Value: 'b' }] })),
      );
      assert.equal(tagged.name, 'ValidationException');
      assert.equal(fake.services.events.connections(OPERATOR.account, REGION).length, 1);
    });

    it('UpdateConnection replaces the key value', async () => {
      await eb.send(
        new UpdateConnectionCommand({
          Name: 'vigil',
          AuthParameters: { ApiKeyAuthParameters: { ApiKeyValue: 'vigil-key-2' } },
        }),
      );
      assert.deepEqual(fake.services.events.connections(OPERATOR.account, REGION)[0]?.apiKey, {
        name: 'X-Api-Key',
        value: 'vigil-key-2',
      });
      const missing = await refusal(eb.send(new UpdateConnectionCommand({ Name: 'nope', Description: 'x' })));
      assert.equal(missing.name, 'ResourceNotFoundException');
    });

    it('CreateApiDestination needs an existing connection and an HTTPS endpoint', async () => {
      const base = {
        Name: 'vigil',
        ConnectionArn: connectionArn,
        InvocationEndpoint: 'https://vigil.example.com/api/integrations/securityhub/abc/events',
        HttpMethod: 'POST' as const,
      };
      const http = await refusal(
        eb.send(
          new CreateApiDestinationCommand({ ...base, InvocationEndpoint: 'http://vigil.example.com/x' }),
        ),
      );
      assert.equal(http.name, 'ValidationException');
      const unknown = await refusal(
        eb.send(
          new CreateApiDestinationCommand({
            ...base,
            ConnectionArn: connectionArn.replace(/[0-9a-f-]+$/, '00000000-0000-0000-0000-000000000000'),
          }),
        ),
      );
      assert.equal(unknown.name, 'ResourceNotFoundException');
      const badArn = await refusal(
        eb.send(new CreateApiDestinationCommand({ ...base, ConnectionArn: 'vigil' })),
      );
      assert.match(
        badArn.message,
        /at 'connectionArn' failed to satisfy constraint: Member must satisfy regular expression pattern/,
      );
      const rate = await refusal(
        eb.send(new CreateApiDestinationCommand({ ...base, InvocationRateLimitPerSecond: 0 })),
      );
      assert.match(rate.message, /Member must have value greater than or equal to 1/);

      const created = await eb.send(
        new CreateApiDestinationCommand({ ...base, InvocationRateLimitPerSecond: 10 }),
      );
      assert.match(
        created.ApiDestinationArn ?? '',
        /^arn:aws:events:us-east-1:111122223333:api-destination\/vigil\/[0-9a-f-]{36}$/,
      );
      assert.equal(created.ApiDestinationState, 'ACTIVE');
      const described = await eb.send(new DescribeApiDestinationCommand({ Name: 'vigil' }));
      assert.deepEqual(
        [
          described.ConnectionArn,
          described.InvocationEndpoint,
          described.HttpMethod,
          described.InvocationRateLimitPerSecond,
        ],
        [connectionArn, base.InvocationEndpoint, 'POST', 10],
      );
      await eb.send(new UpdateApiDestinationCommand({ Name: 'vigil', InvocationRateLimitPerSecond: 20 }));
      const listed = await eb.send(new ListApiDestinationsCommand({ ConnectionArn: connectionArn }));
      assert.deepEqual(
        listed.ApiDestinations?.map((d) => [d.Name, d.InvocationRateLimitPerSecond]),
        [['vigil', 20]],
      );
      const duplicate = await refusal(eb.send(new CreateApiDestinationCommand(base)));
      assert.equal(duplicate.name, 'ResourceAlreadyExistsException');
      assert.equal(
        fake.services.events.apiDestinations(OPERATOR.account, REGION)[0]?.connectionArn,
        connectionArn,
      );
    });

    it('tears down API destination before connection', async () => {
      const inUse = await refusal(eb.send(new DeleteConnectionCommand({ Name: 'vigil' })));
      assert.equal(inUse.name, 'ValidationException');
      await eb.send(new DeleteApiDestinationCommand({ Name: 'vigil' }));
      const gone = await refusal(eb.send(new DescribeApiDestinationCommand({ Name: 'vigil' })));
      assert.deepEqual(
        [gone.name, gone.message],
        [
          'ResourceNotFoundException',
          "Failed to describe the api-destination(s). An api-destination 'vigil' does not exist.",
        ],
      );
      const deleted = await eb.send(new DeleteConnectionCommand({ Name: 'vigil' }));
      assert.equal(deleted.ConnectionState, 'DELETING');
      const described = await refusal(eb.send(new DescribeConnectionCommand({ Name: 'vigil' })));
      assert.deepEqual(
        [described.name, described.message],
        [
          'ResourceNotFoundException',
          "Failed to describe the connection(s). Connection 'vigil' does not exist.",
        ],
      );
      assert.equal(fake.services.events.connections(OPERATOR.account, REGION).length, 0);
    });
  });
});
