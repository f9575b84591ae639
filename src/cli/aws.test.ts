import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { DELIVERY_POLICY } from '../integrations/securityhub/aws-setup/policies.js';
import { startFakeAwsAccount, type FakeAwsAccount } from '../testing/fake-aws-account/server.js';
import type { SubscriptionConfirmation } from '../testing/fake-aws-account/sns.js';
import { startFakeSns, type FakeSns } from '../testing/fake-sns.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { createTestSigningCertificate, signSnsMessage } from '../testing/sns-signer.js';
import { awsCommand } from './aws.js';
import { CUSTOMER, OPERATOR, VIGIL } from '../testing/fake-aws-account/identities.js';

/**
 * `vigil aws setup | check | teardown` end to end: the real CLI code and the real AWS SDK against a
 * local AWS account (STS, IAM, SNS, EventBridge, Security Hub, each checking SigV4 and what AWS refuses),
 * and a real Vigil that confirms the SNS subscription and assumes the role it was given.
 */

/** A second account of the customer's organization, which the operator reaches through a role. */
const MEMBER = '444455556666';
const MEMBER_ADMIN = {
  accessKeyId: 'AKIAMEMBERADMIN00001',
  secretAccessKey: 'member-secret-00000000000000000000000000',
  arn: `arn:aws:iam::${MEMBER}:user/admin`,
  account: MEMBER,
};
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/OrganizationSetup`;
const PUBLIC_URL = 'https://vigil.example.com';
// FakeSns answers for these two hosts, where Vigil GETs the SubscribeURL.
const REGIONS = ['us-east-1', 'us-west-2'];
const OFF_REGION = 'eu-west-1';

let server: TestServer;
let aws: FakeAwsAccount;
let sns: FakeSns;
let dir: string;
const savedEnv = { ...process.env };

/** SNS's side of a subscription: a signed SubscriptionConfirmation POSTed to the endpoint. */
let deliver: (c: SubscriptionConfirmation) => Promise<void> = async () => {};

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-aws-cli-'));
  const signer = await createTestSigningCertificate(path.join(dir, 'certs'));
  sns = await startFakeSns();
  aws = await startFakeAwsAccount({
    callers: [OPERATOR, VIGIL, MEMBER_ADMIN],
    regions: [...REGIONS, OFF_REGION],
    securityHubEnabled: [...REGIONS.map((r) => `${CUSTOMER}:${r}`), `${MEMBER}:us-east-1`],
    deliverSubscriptionConfirmation: (c) => deliver(c),
  });
  sns.respond = (req, res) => {
    const query = new URL(req.url ?? '/', 'https://sns').searchParams;
    const arn = aws.confirmSubscription(query.get('TopicArn') ?? '', query.get('Token') ?? '');
    res.writeHead(arn ? 200 : 400, { 'content-type': 'text/xml' });
    res.end(
      arn
        ? `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${arn}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`
        : '<ErrorResponse><Error><Code>InvalidParameter</Code><Message>Invalid token</Message></Error></ErrorResponse>',
    );
  };
  // The operator signs in with a profile; Vigil, in this same process, with its own keys from the environment.
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
  server = await startTestServer({
    env: {
      VIGIL_PUBLIC_URL: PUBLIC_URL,
      VIGIL_SNS_CERT_DIR: path.join(dir, 'certs'),
      VIGIL_AWS_PRINCIPAL_ARN: VIGIL.arn,
    },
    outbound: { ca: sns.ca, lookup: sns.lookup, connectPort: sns.port, env: {} },
  });
  deliver = async (c) => {
    const message = signSnsMessage(
      {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: c.token,
        TopicArn: c.topicArn,
        Message: `You have chosen to subscribe to the topic ${c.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: c.subscribeUrl,
        Timestamp: new Date().toISOString(),
      },
      signer.keyPem,
      signer.certUrl,
    );
    const endpoint = new URL(c.endpoint);
    await fetch(`${server.url}${endpoint.pathname}${endpoint.search}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type': 'SubscriptionConfirmation',
        'x-amz-sns-topic-arn': c.topicArn,
      },
      body: JSON.stringify(message),
    });
  };
  await server.callOk('POST', '/v2/teams', { name: 'SecOps' });
});

after(async () => {
  await server?.stop();
  await aws?.close();
  await sns?.close();
  process.env = savedEnv;
  await fs.rm(dir, { recursive: true, force: true });
});

async function addIntegration(name: string): Promise<{ id: string; endpointUrl: string; apiKey: string }> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name,
    ownerTeam: { name: 'SecOps' },
  });
  return { id: made.data.id, endpointUrl: made.data.endpointUrl, apiKey: made.data.apiKey };
}

/** Runs `vigil aws …` as the command line does, with the operator's profile; the lines it printed, or its error. */
async function vigil(
  args: string[],
  options: { env?: Record<string, string>; publicAddress?: string } = {},
): Promise<{ lines: string[]; error?: Error }> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  program.addCommand(
    awsCommand({
      out: (line) => lines.push(line),
      env: { VIGIL_URL: server.url, VIGIL_API_KEY: server.key, ...options.env },
      lookup: async () => [{ address: options.publicAddress ?? '52.94.236.248' }],
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50))),
    }),
  );
  try {
    await program.parseAsync(['node', 'vigil', 'aws', ...args, '--profile', 'operator'], { from: 'node' });
    return { lines };
  } catch (error) {
    return { lines, error: error as Error };
  }
}

const mutating = () => aws.calls.filter((c) => c.mutating);
const names = (id: string) => ({
  short: id.replace(/-/g, '').slice(0, 8),
  rule: `vigil-securityhub-${id.replace(/-/g, '').slice(0, 8)}`,
  role: `VigilSecurityHubRole-${id.replace(/-/g, '').slice(0, 8)}`,
});

describe('vigil aws setup, check and teardown (SNS, custom action, two regions)', () => {
  let integration: { id: string; endpointUrl: string; apiKey: string };
  const regions = REGIONS.join(',');

  before(async () => {
    integration = await addIntegration('Prod Hub');
  });

  it('--dry-run says what it would make and calls nothing that changes anything', async () => {
    const before = mutating().length;
    const run = await vigil([
      'setup',
      '--integration',
      'Prod Hub',
      '--region',
      regions,
      '--endpoint-url',
      integration.endpointUrl,
      '--min-severity',
      'MEDIUM',
      '--dry-run',
    ]);
    assert.equal(run.error, undefined, run.error?.message);
    const text = run.lines.join('\n');
    assert.match(text, /^Dry run: nothing is changed/);
    assert.match(text, /Would set the integration's minimum severity to MEDIUM \(was INFORMATIONAL\)/);
    assert.equal(
      (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data.minimumSeverity,
      'INFORMATIONAL',
    );
    for (const what of ['IAM role', 'custom action', 'SNS topic', 'HTTPS subscription', 'EventBridge rule'])
      assert.match(text, new RegExp(`${what}.*: would create`));
    assert.match(text, /Would store in Vigil: role arn:aws:iam::111122223333:role\/VigilSecurityHubRole-/);
    assert.equal(mutating().length, before, 'no mutating call');
    assert.ok(aws.calls.length > 5, 'it did read');
    assert.equal(aws.topics(CUSTOMER, 'us-east-1').length, 0);
  });

  it('sets everything up from nothing, waits for Vigil to confirm, and turns the write-back on', async (t) => {
    const callsBefore = aws.calls.length;
    const mutatingBefore = mutating().length;
    const started = Date.now();
    const run = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      regions,
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.equal(run.error, undefined, `${run.error?.message}\n${run.lines.join('\n')}`);
    t.diagnostic(
      `setup from nothing, 2 regions: ${aws.calls.length - callsBefore} AWS calls (${mutating().length - mutatingBefore} changing) in ${Date.now() - started} ms`,
    );
    const text = run.lines.join('\n');
    assert.match(text, /subscription confirmed by Vigil/);
    assert.match(text, /Stored in Vigil: role/);
    assert.doesNotMatch(text, /Warning: the write-back/, 'one account: nothing to warn of');
    const n = names(integration.id);

    const role = aws.roles(CUSTOMER).find((r) => r.name === n.role);
    assert.ok(role, 'the write-back role');
    assert.equal(role.tags['vigil:integration'], integration.id);
    const facts = (await server.callOk('GET', `/v2/integrations/${integration.id}/aws-setup`)).data;
    assert.deepEqual(role.trustPolicy.Statement, [
      {
        Effect: 'Allow',
        Principal: { AWS: VIGIL.arn },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': facts.externalId } },
      },
    ]);
    assert.deepEqual(Object.keys(role.inlinePolicies), ['VigilSecurityHubWriteback']);

    for (const region of REGIONS) {
      const [topic] = aws.topics(CUSTOMER, region);
      assert.ok(topic, `a topic in ${region}`);
      assert.equal(topic.tags['vigil:integration'], integration.id);
      assert.ok(
        JSON.stringify(topic.policy).includes('"Service":"events.amazonaws.com"'),
        'EventBridge may publish',
      );
      assert.ok(
        JSON.stringify(topic.policy).includes('__default_statement_ID'),
        'the default statement is kept',
      );
      assert.deepEqual(
        topic.subscriptions.map((s) => [s.protocol, s.endpoint, s.confirmed]),
        [['https', integration.endpointUrl, true]],
      );
      const [rule] = aws.services.events.rules(CUSTOMER, region);
      assert.equal(rule?.name, n.rule);
      assert.equal(rule?.tags['vigil:integration'], integration.id);
      const [action] = aws.services.securityhub.actionTargets(CUSTOMER, region);
      assert.deepEqual(rule?.eventPattern, {
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Custom Action'],
        resources: [action?.ActionTargetArn],
      });
      assert.deepEqual(
        rule?.targets.map((t) => [t.Id, t.Arn, t.RoleArn]),
        [['vigil', topic.arn, undefined]],
      );
    }

    // SNS lists a subscription as confirmed once Vigil's ConfirmSubscription call is answered; Vigil
    // records it a moment later, after that answer.
    const integrationNow = await waitFor('Vigil to record both subscriptions as confirmed', async () => {
      const got = (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data;
      const confirmed = got.subscriptions.filter((s: Json) => s.status === 'confirmed');
      return confirmed.length === 2 ? got : undefined;
    });
    assert.equal(integrationNow.sendUpdatesBack, true);
    assert.equal(integrationNow.roleArn, role.arn);
    assert.equal(integrationNow.region, 'us-east-1');
    assert.deepEqual(
      integrationNow.subscriptions.map((s: Json) => s.status).sort(),
      ['confirmed', 'confirmed'],
      'Vigil recorded both subscriptions',
    );
  });

  it('run again, it changes nothing', async (t) => {
    const before = mutating().length;
    const callsBefore = aws.calls.length;
    const run = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      regions,
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.equal(run.error, undefined, run.error?.message);
    assert.deepEqual(
      mutating()
        .slice(before)
        .map((c) => c.action),
      [],
    );
    assert.doesNotMatch(run.lines.join('\n'), /: (created|updated)\b/);
    assert.match(run.lines.at(-1) ?? '', /^Done: \d+ unchanged\.$/);
    t.diagnostic(`setup again, 2 regions: ${aws.calls.length - callsBefore} AWS calls, none changing`);
  });

  it('check proves every link: the pattern, the subscription, the role with and without the external ID', async () => {
    const before = mutating().length;
    const run = await vigil(['check', '--integration', integration.id, '--region', regions]);
    assert.equal(run.error, undefined, `${run.error?.message}\n${run.lines.join('\n')}`);
    const text = run.lines.join('\n');
    assert.match(text, /ok {3}\d{12} us-east-1 {2}the rule takes a finding sent with the custom action/);
    assert.match(text, /ok .*the SNS subscription to Vigil is confirmed/);
    assert.match(text, /ok .*the role refuses Vigil without the external ID/);
    assert.match(text, /Every link works\./);
    const tests = aws.calls.filter((c) => c.action === 'events:TestEventPattern');
    assert.equal(tests.length, 2);
    const assumed = aws.assumeRoleCalls.filter((c) => c.callerArn === VIGIL.arn);
    assert.ok(assumed.some((c) => c.status === 200 && c.externalId !== undefined));
    assert.ok(assumed.some((c) => c.status !== 200 && c.externalId === undefined));
    assert.equal(mutating().length, before, 'check changes nothing');
  });

  it('check names the broken link', async () => {
    const n = names(integration.id);
    const rule = aws.services.events.rules(CUSTOMER, 'us-west-2').find((r) => r.name === n.rule);
    assert.ok(rule);
    const kept = rule.eventPatternText;
    // Someone edits the rule in the console to another custom action.
    const { EventBridgeClient, PutRuleCommand } = await import('@aws-sdk/client-eventbridge');
    const client = new EventBridgeClient({
      region: 'us-west-2',
      credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey },
    });
    const other = {
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Custom Action'],
      resources: [`arn:aws:securityhub:us-west-2:${CUSTOMER}:action/custom/Other`],
    };
    await client.send(new PutRuleCommand({ Name: n.rule, EventPattern: JSON.stringify(other) }));
    try {
      const run = await vigil(['check', '--integration', integration.id, '--region', regions]);
      assert.match(run.error?.message ?? '', /links that do not work/);
      assert.match(
        run.lines.join('\n'),
        /FAIL \d{12} us-west-2 {2}the rule takes a finding sent with the custom action/,
      );
    } finally {
      await client.send(
        new PutRuleCommand({
          Name: n.rule,
          EventPattern: kept,
          State: 'ENABLED',
          Description: rule.description,
        }),
      );
      client.destroy();
    }
  });

  it('check tests the role while the write-back is off, and says it is off and how to turn it on', async () => {
    await server.callOk('PATCH', `/v2/integrations/${integration.id}`, { sendUpdatesBack: false });
    try {
      const run = await vigil(['check', '--integration', integration.id, '--region', regions]);
      assert.match(run.error?.message ?? '', /links that do not work/);
      const text = run.lines.join('\n');
      assert.match(text, /FAIL Vigil {2}the write-back is on \(off: .*sendUpdatesBack/);
      assert.match(text, /ok {3}Vigil {2}Vigil assumes .* with the external ID/);
      assert.match(text, /ok {3}Vigil {2}the role refuses Vigil without the external ID/);
      assert.match(text, /ok {3}Vigil {2}Vigil reads findings in us-east-1/);
      // Only the write-back's being off fails: the role's own steps all passed.
      assert.match(text, /1 of \d+ checks failed\./);
    } finally {
      await server.callOk('PATCH', `/v2/integrations/${integration.id}`, { sendUpdatesBack: true });
    }
  });

  it('teardown removes what setup made and only that, and turns the write-back off', async () => {
    const n = names(integration.id);
    // Another team's topic in the same account must stay.
    const { SNSClient, CreateTopicCommand } = await import('@aws-sdk/client-sns');
    const client = new SNSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey },
    });
    await client.send(new CreateTopicCommand({ Name: 'payments-alerts' }));
    client.destroy();

    const beforeDry = mutating().length;
    const dry = await vigil(['teardown', '--integration', integration.id, '--region', regions, '--dry-run']);
    assert.equal(mutating().length, beforeDry, 'the dry run changed nothing');
    assert.equal(dry.error, undefined, dry.error?.message);
    assert.match(dry.lines.join('\n'), /EventBridge rule .*: would delete/);
    assert.ok(
      aws.topics(CUSTOMER, 'us-east-1').some((t) => t.name !== 'payments-alerts'),
      'the dry run deleted nothing',
    );

    const run = await vigil(['teardown', '--integration', integration.id, '--region', regions]);
    assert.equal(run.error, undefined, `${run.error?.message}\n${run.lines.join('\n')}`);
    assert.match(run.lines.join('\n'), /Turned the write-back off in Vigil/);
    assert.deepEqual(
      aws.topics(CUSTOMER, 'us-east-1').map((t) => t.name),
      ['payments-alerts'],
    );
    assert.deepEqual(aws.topics(CUSTOMER, 'us-west-2'), []);
    for (const region of REGIONS) {
      assert.deepEqual(aws.services.events.rules(CUSTOMER, region), []);
      assert.deepEqual(aws.services.securityhub.actionTargets(CUSTOMER, region), []);
    }
    assert.equal(
      aws.roles(CUSTOMER).find((r) => r.name === n.role),
      undefined,
    );
    const after = (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data;
    assert.equal(after.sendUpdatesBack, false);
  });

  it('teardown keeps a resource of the same name that setup did not make', async () => {
    const n = names(integration.id);
    const { EventBridgeClient, PutRuleCommand } = await import('@aws-sdk/client-eventbridge');
    const client = new EventBridgeClient({
      region: 'us-east-1',
      credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey },
    });
    await client.send(new PutRuleCommand({ Name: n.rule, EventPattern: '{"source":["aws.guardduty"]}' }));
    client.destroy();
    const run = await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    assert.equal(run.error, undefined, run.error?.message);
    assert.match(run.lines.join('\n'), /EventBridge rule .*: kept \(not tagged vigil:integration=/);
    assert.equal(aws.services.events.rules(CUSTOMER, 'us-east-1').length, 1);

    const setup = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.match(
      setup.error?.message ?? '',
      /exists and is not tagged vigil:integration=.*Delete or rename it/,
    );
  });
});

describe('vigil aws setup through an API destination, for Imported findings', () => {
  it('makes the connection with the key in X-Api-Key, the destination, the role EventBridge assumes and the rule', async () => {
    const integration = await addIntegration('Staging Hub');
    const run = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-west-2',
      '--mode',
      'api-destination',
      '--events',
      'imported',
      '--min-severity',
      'HIGH',
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.equal(run.error, undefined, `${run.error?.message}\n${run.lines.join('\n')}`);
    assert.ok(
      run.lines.includes(
        "Set the integration's minimum severity to HIGH (was INFORMATIONAL): new findings below it open no alert.",
      ),
      run.lines.join('\n'),
    );
    assert.equal(
      (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data.minimumSeverity,
      'HIGH',
      'the minimum is Vigil’s to apply, the rule sending every severity',
    );
    const [connection] = aws.services.events.connections(CUSTOMER, 'us-west-2');
    assert.deepEqual(connection?.apiKey, { name: 'X-Api-Key', value: integration.apiKey });
    const [destination] = aws.services.events.apiDestinations(CUSTOMER, 'us-west-2');
    assert.equal(
      destination?.invocationEndpoint,
      `${PUBLIC_URL}/v1/json/integrations/webhooks/amazonsecurityhub`,
    );
    assert.equal(destination?.connectionArn, connection?.arn);
    const rule = aws.services.events
      .rules(CUSTOMER, 'us-west-2')
      .find((r) => r.tags['vigil:integration'] === integration.id);
    const invokeRole = aws.roles(CUSTOMER).find((r) => r.name.startsWith('VigilEventBridgeInvoke-'));
    assert.deepEqual(
      rule?.targets.map((t) => [t.Arn, t.RoleArn]),
      [[destination?.arn, invokeRole?.arn]],
    );
    assert.deepEqual(
      rule?.eventPattern,
      {
        source: ['aws.securityhub'],
        'detail-type': ['Security Hub Findings - Imported', 'Findings Imported V2'],
      },
      'no filter on the findings: updates that close alerts must reach Vigil',
    );
    assert.deepEqual(aws.services.securityhub.actionTargets(CUSTOMER, 'us-west-2'), [], 'no custom action');

    const beforeAgain = mutating().length;
    const again = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-west-2',
      '--mode',
      'api-destination',
      '--events',
      'imported',
      '--min-severity',
      'HIGH',
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.equal(again.error, undefined, again.error?.message);
    assert.ok(again.lines.includes('Minimum severity: already HIGH.'), again.lines.join('\n'));
    assert.doesNotMatch(
      again.lines.join('\n'),
      /: (created|updated)\b/,
      'the key fingerprint tells the key is the same',
    );
    assert.deepEqual(
      mutating()
        .slice(beforeAgain)
        .map((c) => c.action),
      [],
    );

    const check = await vigil(['check', '--integration', integration.id, '--region', 'us-west-2']);
    assert.equal(check.error, undefined, `${check.error?.message}\n${check.lines.join('\n')}`);
    assert.match(check.lines.join('\n'), /ok .*the rule takes updates that close an alert/);

    const down = await vigil(['teardown', '--integration', integration.id, '--region', 'us-west-2']);
    assert.equal(down.error, undefined, down.error?.message);
    assert.deepEqual(aws.services.events.connections(CUSTOMER, 'us-west-2'), []);
    assert.deepEqual(aws.services.events.apiDestinations(CUSTOMER, 'us-west-2'), []);
    assert.equal(
      aws.roles(CUSTOMER).find((r) => r.name.startsWith('VigilEventBridgeInvoke-')),
      undefined,
    );
  });
});

describe('vigil aws setup when things change or go slowly', () => {
  it('says when Vigil has not confirmed in time, and a second run asks SNS to send the confirmation again', async () => {
    const integration = await addIntegration('Late Hub');
    const send = deliver;
    let dropped = 0;
    deliver = async (c) => {
      if (c.endpoint === integration.endpointUrl && dropped === 0) {
        dropped++;
        return;
      }
      await send(c);
    };
    try {
      const args = [
        'setup',
        '--integration',
        integration.id,
        '--region',
        'us-east-1',
        '--endpoint-url',
        integration.endpointUrl,
      ];
      const late = await vigil([...args, '--confirm-timeout', '1']);
      assert.match(
        late.error?.message ?? '',
        /has not had Vigil's confirmation of the subscription in us-east-1 after 1 s/,
      );
      const again = await vigil(args);
      assert.equal(again.error, undefined, `${again.error?.message}\n${again.lines.join('\n')}`);
      assert.match(
        again.lines.join('\n'),
        /HTTPS subscription .*: unchanged \(pending confirmation: SNS sends it again\)/,
      );
      assert.match(again.lines.join('\n'), /subscription confirmed by Vigil/);
      assert.equal(dropped, 1);
    } finally {
      deliver = send;
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it("run again over a subscription made with AWS's 9-minute example policy, gives it the hour-long one", async () => {
    const integration = await addIntegration('Retrying Hub');
    const args = [
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--endpoint-url',
      integration.endpointUrl,
    ];
    const subscription = () =>
      aws
        .topics(CUSTOMER, 'us-east-1')
        .find((t) => t.tags['vigil:integration'] === integration.id)
        ?.subscriptions.find((s) => s.endpoint === integration.endpointUrl);
    const policyOf = () => JSON.parse(subscription()?.attributes.DeliveryPolicy ?? '{}');
    try {
      const first = await vigil(args);
      assert.equal(first.error, undefined, `${first.error?.message}\n${first.lines.join('\n')}`);
      assert.deepEqual(policyOf(), DELIVERY_POLICY);

      // As an earlier version of setup made it (AWS-SETUP-FACTS §1.4's example).
      const { SNSClient, SetSubscriptionAttributesCommand } = await import('@aws-sdk/client-sns');
      const client = new SNSClient({
        region: 'us-east-1',
        credentials: { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey },
      });
      const old = {
        healthyRetryPolicy: {
          numRetries: 20,
          minDelayTarget: 10,
          maxDelayTarget: 30,
          numMinDelayRetries: 3,
          numMaxDelayRetries: 17,
          numNoDelayRetries: 0,
          backoffFunction: 'exponential',
        },
      };
      try {
        await client.send(
          new SetSubscriptionAttributesCommand({
            SubscriptionArn: subscription()?.arn,
            AttributeName: 'DeliveryPolicy',
            AttributeValue: JSON.stringify(old),
          }),
        );
      } finally {
        client.destroy();
      }
      assert.deepEqual(policyOf(), old);

      const again = await vigil(args);
      assert.equal(again.error, undefined, `${again.error?.message}\n${again.lines.join('\n')}`);
      assert.match(
        again.lines.join('\n'),
        /HTTPS subscription .*: updated \(.*delivery policy retrying for up to 3540 s\)/,
      );
      assert.deepEqual(policyOf(), DELIVERY_POLICY);
      const third = mutating().length;
      const unchanged = await vigil(args);
      assert.equal(unchanged.error, undefined, unchanged.error?.message);
      assert.deepEqual(
        mutating()
          .slice(third)
          .map((c) => c.action),
        [],
      );
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('--events imported makes sure the integration takes the events its rule sends, and says so', async () => {
    const made = await server.callOk('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Custom Action Only Hub',
      ownerTeam: { name: 'SecOps' },
      eventTypes: ['custom-action'],
    });
    const integration = { id: made.data.id as string, endpointUrl: made.data.endpointUrl as string };
    const args = [
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--events',
      'imported',
      '--endpoint-url',
      integration.endpointUrl,
    ];
    try {
      const dry = await vigil([...args, '--dry-run']);
      assert.equal(dry.error, undefined, dry.error?.message);
      assert.match(dry.lines.join('\n'), /Would add imported, imported-v2 to the integration's event types/);
      assert.deepEqual((await server.callOk('GET', `/v2/integrations/${integration.id}`)).data.eventTypes, [
        'custom-action',
      ]);

      const run = await vigil(args);
      assert.equal(run.error, undefined, `${run.error?.message}\n${run.lines.join('\n')}`);
      assert.match(
        run.lines.join('\n'),
        /Added imported, imported-v2 to the integration's event types \(was custom-action\)/,
      );
      assert.deepEqual(
        [...(await server.callOk('GET', `/v2/integrations/${integration.id}`)).data.eventTypes].sort(),
        ['custom-action', 'imported', 'imported-v2'],
        'what the rule sends is taken, and what was chosen before is kept',
      );
      const again = await vigil(args);
      assert.equal(again.error, undefined, again.error?.message);
      assert.match(again.lines.join('\n'), /Event types: already take imported, imported-v2\./);

      const check = await vigil(['check', '--integration', integration.id, '--region', 'us-east-1']);
      assert.equal(check.error, undefined, `${check.error?.message}\n${check.lines.join('\n')}`);
      assert.match(
        check.lines.join('\n'),
        /ok .*Vigil takes the events the rule sends \(imported, imported-v2\)/,
      );
      // Someone narrows the integration again: check names that link.
      await server.callOk('PATCH', `/v2/integrations/${integration.id}`, { eventTypes: ['custom-action'] });
      const broken = await vigil(['check', '--integration', integration.id, '--region', 'us-east-1']);
      assert.match(broken.error?.message ?? '', /links that do not work/);
      assert.match(
        broken.lines.join('\n'),
        /FAIL .*Vigil takes the events the rule sends .*leave out imported, imported-v2/,
      );
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('--regenerate-key makes a new key only once setup can go ahead, and replaces the old key’s subscription', async () => {
    const integration = await addIntegration('Rotated Hub');
    const oldPath = new URL(integration.endpointUrl);
    const keyWorks = async (path: string) =>
      (await fetch(`${server.url}${path}`, { method: 'POST', body: '{}' })).status !== 401;

    const refused = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      OFF_REGION,
      '--regenerate-key',
    ]);
    assert.match(
      refused.error?.message ?? '',
      /nothing was set up:.*Security Hub is not enabled in eu-west-1/s,
    );
    assert.ok(await keyWorks(`${oldPath.pathname}${oldPath.search}`), 'the old key still works');

    const first = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.equal(first.error, undefined, first.error?.message);
    const rotated = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--regenerate-key',
    ]);
    assert.equal(rotated.error, undefined, `${rotated.error?.message}\n${rotated.lines.join('\n')}`);
    const newUrl = /shown only now .*: (https:\/\/\S+)$/m.exec(rotated.lines.join('\n'))?.[1] ?? '';
    assert.match(newUrl, /\?apiKey=/);
    assert.notEqual(newUrl, integration.endpointUrl);
    assert.match(rotated.lines.join('\n'), /subscription with an older key: deleted/);
    const topic = aws
      .topics(CUSTOMER, 'us-east-1')
      .find((t) => t.tags['vigil:integration'] === integration.id);
    assert.deepEqual(
      topic?.subscriptions.map((s) => [s.endpoint, s.confirmed]),
      [[newUrl, true]],
    );
    assert.ok(!(await keyWorks(`${oldPath.pathname}${oldPath.search}`)), 'the old key is refused now');
    await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
  });
});

describe('vigil aws setup across the accounts of an organization', () => {
  it('sets up each account given with --account-role, through the role assumed in it', async () => {
    const { IAMClient, CreateRoleCommand } = await import('@aws-sdk/client-iam');
    const iam = new IAMClient({
      region: 'us-east-1',
      credentials: { accessKeyId: MEMBER_ADMIN.accessKeyId, secretAccessKey: MEMBER_ADMIN.secretAccessKey },
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'OrganizationSetup',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${CUSTOMER}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    iam.destroy();
    const integration = await addIntegration('Org Hub');
    const run = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--account-role',
      MEMBER_ROLE,
      '--endpoint-url',
      integration.endpointUrl,
    ]);
    assert.equal(run.error, undefined, `${run.error?.message}\n${run.lines.join('\n')}`);
    const text = run.lines.join('\n');
    assert.match(
      text,
      new RegExp(`Account ${MEMBER}, as arn:aws:sts::${MEMBER}:assumed-role/OrganizationSetup/`),
    );
    for (const account of [CUSTOMER, MEMBER]) {
      const topic = aws
        .topics(account, 'us-east-1')
        .find((t) => t.tags['vigil:integration'] === integration.id);
      assert.ok(topic?.subscriptions[0]?.confirmed, `a confirmed subscription in ${account}`);
      assert.ok(aws.roles(account).some((r) => r.tags['vigil:integration'] === integration.id));
    }
    const stored = (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data;
    assert.match(stored.roleArn, new RegExp(`^arn:aws:iam::${CUSTOMER}:role/`), 'the first account’s role');
    // Only the first account's role is assumed: the findings of the other account are not written back.
    assert.match(
      text,
      new RegExp(
        `Warning: the write-back assumes ${stored.roleArn} only.*Updates of findings from ${MEMBER} fail`,
      ),
    );

    const down = await vigil([
      'teardown',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--account-role',
      MEMBER_ROLE,
    ]);
    assert.equal(down.error, undefined, down.error?.message);
    for (const account of [CUSTOMER, MEMBER])
      assert.equal(
        aws.topics(account, 'us-east-1').filter((t) => t.tags['vigil:integration'] === integration.id).length,
        0,
      );
  });
});

describe('vigil aws setup says what to do when it cannot', () => {
  let integration: { id: string; endpointUrl: string; apiKey: string };
  before(async () => {
    integration = await addIntegration('Errors Hub');
  });
  const setup = (extra: string[], options?: Parameters<typeof vigil>[1]) =>
    vigil(
      ['setup', '--integration', integration.id, '--endpoint-url', integration.endpointUrl, ...extra],
      options,
    );

  it('names the permission the operator lacks', async () => {
    aws.deny('sns:CreateTopic', OPERATOR.arn);
    try {
      const run = await setup(['--region', 'us-east-1']);
      assert.match(
        run.error?.message ?? '',
        /may not call sns:CreateTopic in us-east-1 of account 111122223333: allow sns:CreateTopic/,
      );
    } finally {
      aws.allow('sns:CreateTopic', OPERATOR.arn);
    }
  });

  it('says Security Hub is off in a region, and sets up the others', async () => {
    const run = await setup(['--region', `${OFF_REGION},us-east-1`]);
    assert.match(
      run.error?.message ?? '',
      /Security Hub is not enabled in eu-west-1 of account 111122223333: enable it/,
    );
    assert.match(run.error?.message ?? '', /did not finish in 1 of 2 places/);
    assert.match(run.lines.join('\n'), /subscription confirmed by Vigil/, 'us-east-1 was set up');
    const stored = (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data;
    assert.equal(stored.region, 'us-east-1', 'the write-back goes to a region that was set up');
    await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
  });

  it("leaves alone a custom action it did not make (a CloudFormation stack's), in setup and in teardown", async () => {
    const stack = await addIntegration('Stack Hub');
    const id = `Vigil${stack.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 15)}`;
    const description = 'Send the finding to Vigil (integration Stack Hub)';
    aws.services.securityhub.preloadActionTargets(CUSTOMER, 'us-east-1', [
      { id, name: 'Vigil Stack Hub', description },
    ]);
    const ours = () =>
      aws.services.securityhub
        .actionTargets(CUSTOMER, 'us-east-1')
        .find((t) => t.ActionTargetArn.endsWith(`/${id}`));
    const run = await vigil([
      'setup',
      '--integration',
      stack.id,
      '--endpoint-url',
      stack.endpointUrl,
      '--region',
      'us-east-1',
    ]);
    assert.match(
      run.error?.message ?? '',
      /custom action .* vigil aws setup did not make it.*CloudFormation/,
    );
    assert.equal(ours()?.Description, description, 'its description is as the stack made it');
    const teardown = await vigil(['teardown', '--integration', stack.id, '--region', 'us-east-1']);
    assert.equal(teardown.error, undefined, teardown.error?.message);
    assert.match(teardown.lines.join('\n'), /custom action .*: kept/);
    assert.ok(ours(), 'the stack keeps its custom action');
  });

  it('says the custom action limit is reached and what to do', async () => {
    aws.services.securityhub.preloadActionTargets(
      CUSTOMER,
      'us-west-2',
      Array.from({ length: 50 }, (_, i) => ({
        id: `Other${i}`,
        name: `Other ${i}`,
        description: 'not ours',
      })),
    );
    const run = await setup(['--region', 'us-west-2']);
    assert.match(
      run.error?.message ?? '',
      /most custom actions Security Hub allows \(50\).*--events imported/,
    );
  });

  it('refuses an endpoint SNS cannot reach, before making anything', async () => {
    const before = aws.calls.length;
    const http = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--endpoint-url',
      integration.endpointUrl.replace('https://', 'http://'),
    ]);
    assert.match(http.error?.message ?? '', /must be this integration's/);
    const inside = await setup(['--region', 'us-east-1'], { publicAddress: '10.1.2.3' });
    assert.match(inside.error?.message ?? '', /resolves to 10\.1\.2\.3, which the internet cannot reach/);
    const noKey = await vigil(['setup', '--integration', integration.id, '--region', 'us-east-1']);
    assert.match(
      noKey.error?.message ?? '',
      /VIGIL_ENDPOINT_URL or with --endpoint-url, or add --regenerate-key/,
    );
    assert.equal(aws.calls.length, before, 'no AWS call was made');
  });
});

describe("vigil aws setup and check with the integration's current key", () => {
  const topicOf = (id: string, region = 'us-east-1') =>
    aws.topics(CUSTOMER, region).find((t) => t.tags['vigil:integration'] === id);
  const subscriptionsOf = (id: string) => topicOf(id)?.subscriptions.map((s) => [s.endpoint, s.confirmed]);
  const regenerate = async (id: string): Promise<string> =>
    (await server.callOk('POST', `/v2/integrations/${id}/api-key`)).data.endpointUrl;
  const keyWorks = async (endpointUrl: string) => {
    const url = new URL(endpointUrl);
    return (
      (await fetch(`${server.url}${url.pathname}${url.search}`, { method: 'POST', body: '{}' })).status !==
      401
    );
  };

  it("refuses another integration's endpoint URL, or a mistyped key, and changes nothing", async () => {
    const other = await addIntegration('Key Hub A');
    const integration = await addIntegration('Key Hub B');
    const setup = ['setup', '--integration', integration.id, '--region', 'us-east-1'];
    try {
      const first = await vigil(setup, { env: { VIGIL_ENDPOINT_URL: integration.endpointUrl } });
      assert.equal(first.error, undefined, `${first.error?.message}\n${first.lines.join('\n')}`);
      const before = mutating().length;

      // VIGIL_ENDPOINT_URL left from setting up the other integration.
      const left = await vigil(setup, { env: { VIGIL_ENDPOINT_URL: other.endpointUrl } });
      assert.match(
        left.error?.message ?? '',
        /the endpoint URL's key is not the current key of integration "Key Hub B" \(its fingerprint is [0-9a-f]{12}, the integration's [0-9a-f]{12}\).*VIGIL_ENDPOINT_URL left from an earlier run.*Nothing was changed.*--regenerate-key/s,
      );
      const last = integration.endpointUrl.at(-1) === '0' ? '1' : '0';
      const mistyped = await vigil([
        ...setup,
        '--mode',
        'api-destination',
        '--events',
        'imported',
        '--endpoint-url',
        `${integration.endpointUrl.slice(0, -1)}${last}`,
      ]);
      assert.match(mistyped.error?.message ?? '', /is not the current key of integration "Key Hub B"/);
      assert.deepEqual(
        mutating()
          .slice(before)
          .map((c) => c.action),
        [],
      );
      assert.deepEqual(subscriptionsOf(integration.id), [[integration.endpointUrl, true]]);
      assert.deepEqual(aws.services.events.connections(CUSTOMER, 'us-east-1'), []);
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('removes the subscription with an older key (which Vigil already refuses) only once Vigil has confirmed the new one', async () => {
    const integration = await addIntegration('Slow Rotation Hub');
    const setup = ['setup', '--integration', integration.id, '--region', 'us-east-1'];
    const send = deliver;
    try {
      const first = await vigil([...setup, '--endpoint-url', integration.endpointUrl]);
      assert.equal(first.error, undefined, `${first.error?.message}\n${first.lines.join('\n')}`);
      const rotated = await regenerate(integration.id);
      let dropped = 0;
      deliver = async (c) => {
        if (c.endpoint === rotated && dropped === 0) {
          dropped++;
          return;
        }
        await send(c);
      };
      const late = await vigil([...setup, '--endpoint-url', rotated, '--confirm-timeout', '1']);
      assert.match(late.error?.message ?? '', /has not had Vigil's confirmation/);
      assert.deepEqual(
        subscriptionsOf(integration.id),
        [
          [integration.endpointUrl, true],
          [rotated, false],
        ],
        'the confirmed subscription stays while the new one is pending',
      );
      // It delivers nothing meanwhile: the wait matters only with an older Vigil, which gives no key
      // fingerprint, so setup cannot tell that the URL given is not the integration's current key.
      assert.ok(!(await keyWorks(integration.endpointUrl)), 'Vigil refuses the older key');
      const again = await vigil([...setup, '--endpoint-url', rotated]);
      assert.equal(again.error, undefined, `${again.error?.message}\n${again.lines.join('\n')}`);
      const text = again.lines.join('\n');
      assert.ok(
        text.indexOf('subscription with an older key: deleted') >
          text.indexOf('subscription confirmed by Vigil'),
        text,
      );
      assert.deepEqual(subscriptionsOf(integration.id), [[rotated, true]]);
      assert.equal(dropped, 1);
    } finally {
      deliver = send;
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('--regenerate-key makes no key when setup would stop at a role or topic of the same name that is not the integration’s', async () => {
    const integration = await addIntegration('Stacked Role Hub');
    const n = names(integration.id);
    const credentials = { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: OPERATOR.secretAccessKey };
    const { IAMClient, CreateRoleCommand, DeleteRoleCommand } = await import('@aws-sdk/client-iam');
    const { SNSClient, CreateTopicCommand, DeleteTopicCommand } = await import('@aws-sdk/client-sns');
    const iam = new IAMClient({ region: 'us-east-1', credentials });
    const sns = new SNSClient({ region: 'us-east-1', credentials });
    const setup = ['setup', '--integration', integration.id, '--region', 'us-east-1', '--regenerate-key'];
    try {
      // The role template deployed with its default RoleName: the same name, no tag.
      await iam.send(
        new CreateRoleCommand({
          RoleName: n.role,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: VIGIL.arn }, Action: 'sts:AssumeRole' }],
          }),
        }),
      );
      let before = mutating().length;
      const role = await vigil(setup);
      assert.match(
        role.error?.message ?? '',
        /no new key was made, so the old key still works:\n {2}111122223333 global: the IAM role VigilSecurityHubRole-\w+ exists and is not tagged/,
      );
      assert.doesNotMatch(role.lines.join('\n'), /Made a new key/);
      assert.ok(await keyWorks(integration.endpointUrl), 'the old key still works');
      assert.deepEqual(
        mutating()
          .slice(before)
          .map((c) => c.action),
        [],
      );
      await iam.send(new DeleteRoleCommand({ RoleName: n.role }));

      // A topic of the same name someone else made, in the region.
      const topic = await sns.send(new CreateTopicCommand({ Name: n.rule }));
      try {
        before = mutating().length;
        const region = await vigil(setup);
        assert.match(
          region.error?.message ?? '',
          /no new key was made.*111122223333 us-east-1: the SNS topic .* exists and is not tagged/s,
        );
        assert.doesNotMatch(region.lines.join('\n'), /Made a new key/);
        assert.ok(await keyWorks(integration.endpointUrl), 'the old key still works');
        assert.deepEqual(
          mutating()
            .slice(before)
            .map((c) => c.action),
          [],
        );
      } finally {
        await sns.send(new DeleteTopicCommand({ TopicArn: topic.TopicArn }));
      }
    } finally {
      iam.destroy();
      sns.destroy();
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('--regenerate-key makes the roles before the key: a trust policy IAM refuses costs no key', async () => {
    const integration = await addIntegration('Unknown Principal Hub');
    const run = await vigil([
      'setup',
      '--integration',
      integration.id,
      '--region',
      'us-east-1',
      '--regenerate-key',
      '--vigil-principal',
      'arn:aws:iam::210987654321:role/NoSuchRole',
    ]);
    const text = run.lines.join('\n');
    assert.match(
      run.error?.message ?? '',
      /no new key was made, so the old key still works:\n {2}111122223333 global: IAM refused the write-back role's trust policy.*Invalid principal/s,
    );
    assert.doesNotMatch(text, /Made a new key/);
    assert.ok(await keyWorks(integration.endpointUrl), 'the old key still works');
    assert.equal(topicOf(integration.id), undefined, 'nothing was made in the region');
  });

  it('--regenerate-key: a refused write in a region comes after the key, and the run says to set up again with the new one', async () => {
    const integration = await addIntegration('Subscribe Denied Hub');
    const setup = ['setup', '--integration', integration.id, '--region', 'us-east-1'];
    aws.deny('sns:Subscribe');
    let run;
    try {
      run = await vigil([...setup, '--regenerate-key']);
    } finally {
      aws.allow('sns:Subscribe');
    }
    try {
      const newUrl = /shown only now .*: (https:\/\/\S+)$/m.exec(run.lines.join('\n'))?.[1] ?? '';
      assert.match(newUrl, /\?apiKey=/, run.lines.join('\n'));
      assert.match(
        run.error?.message ?? '',
        /may not call sns:Subscribe.*A new key was made \(its endpoint URL is above\): run vigil aws setup again with --endpoint-url <that URL>, not --regenerate-key/s,
      );
      assert.ok(!(await keyWorks(integration.endpointUrl)), 'the old key is gone');
      const again = await vigil([...setup, '--endpoint-url', newUrl]);
      assert.equal(again.error, undefined, `${again.error?.message}\n${again.lines.join('\n')}`);
      assert.deepEqual(subscriptionsOf(integration.id), [[newUrl, true]]);
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('an older key’s subscription that cannot be removed fails that region only: the others are waited on and the write-back stored', async () => {
    const integration = await addIntegration('Unsubscribe Denied Hub');
    // Imported findings: an earlier test left us-west-2 with no room for another custom action.
    const setup = [
      'setup',
      '--integration',
      integration.id,
      '--region',
      REGIONS.join(','),
      '--events',
      'imported',
    ];
    try {
      const first = await vigil([...setup, '--endpoint-url', integration.endpointUrl, '--no-writeback']);
      assert.equal(first.error, undefined, `${first.error?.message}\n${first.lines.join('\n')}`);
      const rotated = await regenerate(integration.id);
      aws.deny('sns:Unsubscribe');
      let run;
      try {
        run = await vigil([...setup, '--endpoint-url', rotated]);
      } finally {
        aws.allow('sns:Unsubscribe');
      }
      const text = run.lines.join('\n');
      assert.match(
        run.error?.message ?? '',
        /setup did not finish in 2 of 2 places.*\n {2}111122223333 us-east-1: .*may not call sns:Unsubscribe.*\n {2}111122223333 us-west-2: .*may not call sns:Unsubscribe/s,
        text,
      );
      assert.match(text, /us-west-2 {2}subscription confirmed by Vigil/);
      for (const region of REGIONS)
        assert.deepEqual(
          topicOf(integration.id, region)?.subscriptions.map((s) => [s.endpoint, s.confirmed]),
          [
            [integration.endpointUrl, true],
            [rotated, true],
          ],
        );
      const stored = (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data;
      assert.equal(stored.sendUpdatesBack, true, text);
      assert.match(stored.roleArn ?? '', /:role\/VigilSecurityHubRole-/);

      const again = await vigil([...setup, '--endpoint-url', rotated]);
      assert.equal(again.error, undefined, `${again.error?.message}\n${again.lines.join('\n')}`);
      for (const region of REGIONS)
        assert.deepEqual(
          topicOf(integration.id, region)?.subscriptions.map((s) => [s.endpoint, s.confirmed]),
          [[rotated, true]],
        );
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', REGIONS.join(',')]);
    }
  });

  it('--regenerate-key goes before VIGIL_ENDPOINT_URL, not with --endpoint-url', async () => {
    const other = await addIntegration('Exported Key Hub');
    const integration = await addIntegration('Fresh Key Hub');
    const setup = ['setup', '--integration', integration.id, '--region', 'us-east-1', '--regenerate-key'];
    const dry = await vigil([...setup, '--dry-run'], { env: { VIGIL_ENDPOINT_URL: other.endpointUrl } });
    assert.equal(dry.error, undefined, `${dry.error?.message}\n${dry.lines.join('\n')}`);
    assert.match(dry.lines.join('\n'), /HTTPS subscription .*: would create/);
    assert.ok(await keyWorks(integration.endpointUrl), 'a dry run makes no key');
    const both = await vigil([...setup, '--endpoint-url', integration.endpointUrl]);
    assert.match(both.error?.message ?? '', /give --endpoint-url .* or --regenerate-key .*, not both/);
  });

  it('check fails when the key was regenerated since setup (SNS), until setup runs with the new one', async () => {
    const integration = await addIntegration('Check Key Hub');
    const check = ['check', '--integration', integration.id, '--region', 'us-east-1'];
    try {
      const first = await vigil([
        'setup',
        '--integration',
        integration.id,
        '--region',
        'us-east-1',
        '--endpoint-url',
        integration.endpointUrl,
      ]);
      assert.equal(first.error, undefined, `${first.error?.message}\n${first.lines.join('\n')}`);
      const rotated = await regenerate(integration.id);
      const stale = await vigil(check);
      assert.match(stale.error?.message ?? '', /links that do not work/);
      const text = stale.lines.join('\n');
      assert.match(
        text,
        /FAIL .*the SNS subscription to Vigil is confirmed \(only those with an older key of the integration are, which Vigil refuses: run vigil aws setup again with the integration's current endpoint URL/,
      );
      assert.match(text, /FAIL .*no subscription to Vigil with an older key \(1, refused by Vigil/);
      assert.doesNotMatch(text, /Every link works/);

      const mended = await vigil([
        'setup',
        '--integration',
        integration.id,
        '--region',
        'us-east-1',
        '--endpoint-url',
        rotated,
      ]);
      assert.equal(mended.error, undefined, `${mended.error?.message}\n${mended.lines.join('\n')}`);
      const ok = await vigil(check);
      assert.equal(ok.error, undefined, `${ok.error?.message}\n${ok.lines.join('\n')}`);
      assert.match(ok.lines.join('\n'), /Every link works\./);
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-east-1']);
    }
  });

  it('check fails when the API destination’s connection sends a key regenerated since', async () => {
    const integration = await addIntegration('Check Connection Hub');
    const check = ['check', '--integration', integration.id, '--region', 'us-west-2'];
    const setup = (url: string) =>
      vigil([
        'setup',
        '--integration',
        integration.id,
        '--region',
        'us-west-2',
        '--mode',
        'api-destination',
        '--events',
        'imported',
        '--endpoint-url',
        url,
      ]);
    try {
      const first = await setup(integration.endpointUrl);
      assert.equal(first.error, undefined, `${first.error?.message}\n${first.lines.join('\n')}`);
      const rotated = await regenerate(integration.id);
      const stale = await vigil(check);
      assert.match(stale.error?.message ?? '', /links that do not work/);
      assert.match(
        stale.lines.join('\n'),
        /FAIL .*the connection sends the integration's current key \(it sends an older key \(fingerprint [0-9a-f]{12}, the integration's is [0-9a-f]{12}\), which Vigil refuses: run vigil aws setup again/,
      );
      const mended = await setup(rotated);
      assert.equal(mended.error, undefined, `${mended.error?.message}\n${mended.lines.join('\n')}`);
      assert.match(mended.lines.join('\n'), /EventBridge connection .*: updated \(the key changed\)/);
      const ok = await vigil(check);
      assert.equal(ok.error, undefined, `${ok.error?.message}\n${ok.lines.join('\n')}`);
      assert.match(ok.lines.join('\n'), /ok .*the connection sends the integration's current key/);
    } finally {
      await vigil(['teardown', '--integration', integration.id, '--region', 'us-west-2']);
    }
  });
});
