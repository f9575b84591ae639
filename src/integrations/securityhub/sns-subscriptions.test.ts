import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startFakeSns, type FakeSns } from '../../testing/fake-sns.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { createTestSigningCertificate, signSnsMessage } from '../../testing/sns-signer.js';
import type { SnsMessage } from './sns/message.js';

/**
 * Which SNS subscription a delivery is about, on the real intake (server, PostgreSQL, signed messages,
 * the local SNS stand-in): an earlier subscription's UnsubscribeConfirmation must not shut off the live
 * one, and a notification SNS sends while Vigil is still confirming the topic must not be refused, for
 * SNS never sends again what got a 4xx.
 */

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtures = path.resolve(here, '../../../test/fixtures/securityhub');
const readJson = async (p: string): Promise<Json> =>
  JSON.parse(await fs.readFile(path.join(fixtures, p), 'utf8'));

let server: TestServer;
let fakeSns: FakeSns;
let certDir: string;
let signer: { keyPem: string; certUrl: string };
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-findings';

before(async () => {
  certDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-certs-'));
  const made = await createTestSigningCertificate(certDir);
  signer = { keyPem: made.keyPem, certUrl: made.certUrl };
  fakeSns = await startFakeSns();
  server = await startTestServer({
    env: { VIGIL_SNS_CERT_DIR: certDir, VIGIL_PUBLIC_URL: 'https://vigil.example.com' },
    outbound: { ca: fakeSns.ca, lookup: fakeSns.lookup, connectPort: fakeSns.port, env: {} },
  });
  const team = await server.call('POST', '/v2/teams', { name: 'SecOps' });
  assert.equal(team.status, 201);
});

after(async () => {
  await server.stop();
  await fakeSns.close();
  await fs.rm(certDir, { recursive: true, force: true });
});

interface Integration {
  id: string;
  apiKey: string;
  endpointUrl: string;
  path: string;
}

async function addIntegration(body: Json = {}): Promise<Integration> {
  const res = await server.call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: `Security Hub ${randomUUID().slice(0, 8)}`,
    ownerTeam: { name: 'SecOps' },
    ...body,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const data = res.body.data;
  integrationByKey.set(data.apiKey, data.id);
  const url = new URL(data.endpointUrl);
  return {
    id: data.id,
    apiKey: data.apiKey,
    endpointUrl: data.endpointUrl,
    path: `${url.pathname}${url.search}`,
  };
}

/** Integration ids by key, so a delivery's outcome can be read from the payload log. */
const integrationByKey = new Map<string, string>();

async function post(pathAndQuery: string, body: string | object, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + pathAndQuery, {
    method: 'POST',
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'user-agent': 'Amazon Simple Notification Service Agent',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const answer = { status: response.status, body: (await response.json()) as Json };
  // Notifications are stored, answered, then made into alerts by the workers: wait for the outcome.
  if (answer.body.verdict === 'queued') {
    const key = new URL(pathAndQuery, server.url).searchParams.get('apiKey') ?? headers['x-api-key'] ?? '';
    const integrationId = integrationByKey.get(key);
    assert.ok(integrationId, 'a known integration');
    const settled = await waitFor('the delivery to be processed', async () => {
      const payload = await server.call(
        'GET',
        `/v2/integrations/${integrationId}/payloads/${answer.body.payloadId}`,
      );
      return payload.body.data.verdict !== 'queued' ? payload.body.data : undefined;
    });
    answer.body = {
      ...answer.body,
      verdict: settled.verdict,
      reason: settled.reason ?? undefined,
      alertIds: settled.alertIds,
    };
  }
  return answer;
}

function signed(fields: Partial<SnsMessage> & { Type: SnsMessage['Type'] }): SnsMessage {
  const base = {
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Timestamp: new Date().toISOString(),
    Message: '',
    ...fields,
  };
  return signSnsMessage(
    base as Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
    signer.keyPem,
    signer.certUrl,
    '2',
  );
}

function notification(event: object, extra: Partial<SnsMessage> = {}): SnsMessage {
  return signed({
    Type: 'Notification',
    Message: JSON.stringify(event),
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:abc`,
    ...extra,
  });
}

async function confirm(integration: Integration, topic = TOPIC) {
  const token = fakeSns.issueToken(topic);
  const message = signed({
    Type: 'SubscriptionConfirmation',
    TopicArn: topic,
    Token: token,
    Message: `You have chosen to subscribe to the topic ${topic}.`,
    SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=${token}`,
  });
  return {
    res: await post(integration.path, message, { 'x-amz-sns-message-type': 'SubscriptionConfirmation' }),
    token,
  };
}

async function importedEvent(mutate: (finding: Json) => void = () => {}): Promise<Json> {
  const event = await readJson('events/source_layer_test_test_json_data_afsbp-ec2.7.json');
  mutate(event.detail.findings[0]);
  return event;
}

async function alert(id: string): Promise<Json> {
  const res = await server.call('GET', `/v2/alerts/${id}`);
  assert.equal(res.status, 200);
  return res.body.data;
}

/** The ARN the SNS stand-in answers ConfirmSubscription with: the subscription Vigil records. */
const LIVE = `${TOPIC}:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;
const OLD = `${TOPIC}:6a5b4c3d-2e1f-4071-8293-a4b5c6d7e8f9`;

function unsubscribeConfirmation(message = 'You have chosen to deactivate subscription') {
  return signed({
    Type: 'UnsubscribeConfirmation',
    Token: 'tok',
    Message: message,
    SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=tok`,
  });
}

async function subscriptions(integration: Integration): Promise<Json[]> {
  const got = await server.call('GET', `/v2/integrations/${integration.id}`);
  assert.equal(got.status, 200);
  return got.body.data.subscriptions;
}

/** Holds the answer to the next ConfirmSubscription GET until `during` has run. */
async function whileConfirming<T>(
  integration: Integration,
  during: () => Promise<T>,
  answer?: FakeSns['respond'],
) {
  const original = fakeSns.respond;
  let seen: T | undefined;
  let failure: unknown;
  fakeSns.respond = (req, res) => {
    fakeSns.respond = original;
    void during()
      .then((value) => (seen = value))
      .catch((error: unknown) => (failure = error))
      .finally(() => (answer ?? original)(req, res));
  };
  try {
    const confirmed = await confirm(integration);
    if (failure) throw failure;
    return { confirmed, seen };
  } finally {
    fakeSns.respond = original;
  }
}

describe('an UnsubscribeConfirmation names the subscription it removed', () => {
  it('leaves the topic confirmed when an earlier subscription was removed', async () => {
    const integration = await addIntegration();
    assert.equal((await confirm(integration)).res.status, 200);
    // CloudFormation replaced the subscription: the new one is confirmed, then the old one is deleted.
    const res = await post(integration.path, unsubscribeConfirmation(), {
      'x-amz-sns-subscription-arn': OLD,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'ignored');
    assert.match(res.body.reason, new RegExp(`${OLD}.*${LIVE} still delivers`));
    assert.deepEqual(res.body.alertIds, []);
    const [subscription] = await subscriptions(integration);
    assert.equal(subscription?.status, 'confirmed');
    assert.equal(subscription?.subscriptionArn, LIVE);
    const after = await post(
      integration.path,
      notification(await importedEvent((f) => (f.Id += '-after-old'))),
    );
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.verdict, 'created');
  });

  it('reads the removed subscription from the signed Message when the header is missing (a replay)', async () => {
    const integration = await addIntegration();
    await confirm(integration);
    const res = await post(
      integration.path,
      unsubscribeConfirmation(
        `You have chosen to deactivate subscription ${OLD}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
      ),
    );
    assert.equal(res.body.verdict, 'ignored', JSON.stringify(res.body));
    assert.equal((await subscriptions(integration))[0]?.status, 'confirmed');
  });

  it('turns the topic off when the confirmed subscription itself was removed', async () => {
    const integration = await addIntegration();
    await confirm(integration);
    const res = await post(integration.path, unsubscribeConfirmation(), {
      'x-amz-sns-subscription-arn': LIVE,
    });
    assert.equal(res.body.verdict, 'unsubscribed');
    const warning = await alert(res.body.alertIds[0]);
    assert.equal(warning.details.SubscriptionArn, LIVE);
    assert.equal((await subscriptions(integration))[0]?.status, 'unsubscribed');
    assert.equal((await post(integration.path, notification(await importedEvent()))).status, 403);
  });
});

describe('a notification while the topic is being confirmed', () => {
  it('is taken when SNS delivers it before the answer to the confirmation is back', async () => {
    const integration = await addIntegration();
    const { confirmed, seen } = await whileConfirming(integration, async () => ({
      status: (await subscriptions(integration))[0]?.status,
      delivered: await post(integration.path, notification(await importedEvent((f) => (f.Id += '-race')))),
    }));
    assert.equal(seen?.status, 'pending');
    assert.equal(seen?.delivered.status, 200, JSON.stringify(seen?.delivered.body));
    assert.equal(seen?.delivered.body.verdict, 'created');
    assert.equal(confirmed.res.status, 200, JSON.stringify(confirmed.res.body));
    assert.equal(confirmed.res.body.verdict, 'confirmed');
    const [subscription] = await subscriptions(integration);
    assert.equal(subscription?.status, 'confirmed');
    assert.equal(subscription?.subscriptionArn, LIVE);
  });

  it('forgets the pending confirmation when SNS refuses it', async () => {
    const integration = await addIntegration();
    const refuse: FakeSns['respond'] = (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/xml' });
      res.end('<ErrorResponse><Error><Code>NotFound</Code></Error></ErrorResponse>');
    };
    const { confirmed } = await whileConfirming(integration, async () => undefined, refuse);
    assert.equal(confirmed.res.status, 502, JSON.stringify(confirmed.res.body));
    assert.deepEqual(await subscriptions(integration), []);
    assert.equal((await post(integration.path, notification(await importedEvent()))).status, 403);
  });

  it('puts an unsubscribed topic back when its new confirmation fails', async () => {
    const integration = await addIntegration();
    await confirm(integration);
    await post(integration.path, unsubscribeConfirmation(), { 'x-amz-sns-subscription-arn': LIVE });
    const refuse: FakeSns['respond'] = (_req, res) => {
      res.writeHead(500);
      res.end();
    };
    const { confirmed, seen } = await whileConfirming(
      integration,
      async () => (await subscriptions(integration))[0],
      refuse,
    );
    assert.equal(seen?.status, 'pending');
    assert.equal(confirmed.res.status, 502);
    assert.equal((await subscriptions(integration))[0]?.status, 'unsubscribed');
  });

  it('is confirmed by the next signed notification when storing the confirmation failed', async () => {
    const integration = await addIntegration();
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      // SNS accepts the confirmation, then Vigil cannot store it.
      const { confirmed } = await whileConfirming(integration, () =>
        client.query('ALTER TABLE integration_payloads RENAME TO integration_payloads_away'),
      );
      assert.equal(confirmed.res.status, 503, JSON.stringify(confirmed.res.body));
    } finally {
      await client.query('ALTER TABLE IF EXISTS integration_payloads_away RENAME TO integration_payloads');
      await client.end();
    }
    assert.equal((await subscriptions(integration))[0]?.status, 'pending');
    const delivered = await post(
      integration.path,
      notification(await importedEvent((f) => (f.Id += '-later'))),
    );
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    assert.equal(delivered.body.verdict, 'created');
    assert.equal((await subscriptions(integration))[0]?.status, 'confirmed');
  });
});
