import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { FakeSns } from '../../testing/fake-sns.js';
import type { Json, TestServer } from '../../testing/harness.js';
import {
  securityHubIntake,
  type IntakeIntegration as Integration,
} from '../../testing/securityhub-intake.js';

/**
 * Which SNS subscription a delivery is about, on the real intake (server, PostgreSQL, signed messages,
 * the local SNS stand-in): an earlier subscription's UnsubscribeConfirmation must not shut off the live
 * one, and a notification SNS sends while Vigil is still confirming the topic must not be refused, for
 * SNS never sends again what got a 4xx.
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:securityhub-findings';
const intake = securityHubIntake({ topicArn: TOPIC });
const { addIntegration, post, signed, notification, confirm, importedEvent, alert } = intake;

let server: TestServer;
let fakeSns: FakeSns;

before(async () => {
  ({ server, fakeSns } = await intake.start());
});

after(() => intake.stop());

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
