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

/** The stand-in's answer to ConfirmSubscription naming `arn` (or no ARN at all). */
function answerWith(arn: string | null): FakeSns['respond'] {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<ConfirmSubscriptionResponse><ConfirmSubscriptionResult>${arn === null ? '' : `<SubscriptionArn>${arn}</SubscriptionArn>`}</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
    );
  };
}

/** Confirms the integration's topic with SNS answering `arn` as the subscription made. */
async function confirmAs(integration: Integration, arn: string | null) {
  const original = fakeSns.respond;
  fakeSns.respond = answerWith(arn);
  try {
    const confirmed = await confirm(integration);
    assert.equal(confirmed.res.status, 200, JSON.stringify(confirmed.res.body));
  } finally {
    fakeSns.respond = original;
  }
}

const deactivated = (arn: string) =>
  `You have chosen to deactivate subscription ${arn}.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`;

async function sql(query: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    return await client.query(query, values);
  } finally {
    await client.end();
  }
}

describe('which subscription was removed is taken from what SNS signed', () => {
  it('ignores an unsigned header naming the live subscription on a signed removal of another one', async () => {
    const integration = await addIntegration();
    await confirmAs(integration, LIVE);
    // Anybody may subscribe an endpoint of their own to the topic and unsubscribe it: SNS then signs an
    // UnsubscribeConfirmation naming that subscription, to be posted here with a forged header.
    const other = `${TOPIC}:aaaaaaaa-0000-4000-8000-000000000000`;
    const res = await post(integration.path, unsubscribeConfirmation(deactivated(other)), {
      'x-amz-sns-subscription-arn': LIVE,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.verdict, 'ignored');
    assert.deepEqual(res.body.alertIds, []);
    assert.equal((await subscriptions(integration))[0]?.status, 'confirmed');
    const after = await post(integration.path, notification(await importedEvent((f) => (f.Id += '-forged'))));
    assert.equal(after.status, 200, JSON.stringify(after.body));
  });
});

describe('an ARN of an earlier subscription does not outlive it', () => {
  it('turns the topic off when the subscription confirmed by a notification is removed', async () => {
    const integration = await addIntegration();
    await confirmAs(integration, OLD);
    await post(integration.path, unsubscribeConfirmation(), { 'x-amz-sns-subscription-arn': OLD });
    // A new subscription is confirmed with SNS, then storing it fails; a notification settles it.
    await sql(
      `UPDATE sns_subscriptions SET status = 'pending', updated_at = now() WHERE integration_id = $1`,
      [integration.id],
    );
    const delivered = await post(integration.path, notification(await importedEvent((f) => (f.Id += '-st'))));
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    const res = await post(integration.path, unsubscribeConfirmation(), {
      'x-amz-sns-subscription-arn': LIVE,
    });
    assert.equal(res.body.verdict, 'unsubscribed', JSON.stringify(res.body));
    assert.equal((await subscriptions(integration))[0]?.status, 'unsubscribed');
  });

  it('turns the topic off when SNS did not say which subscription it confirmed', async () => {
    const integration = await addIntegration();
    await confirmAs(integration, OLD);
    // A replacement (really LIVE) whose ARN the answer left out: OLD is no proof that anything delivers.
    await confirmAs(integration, null);
    const [subscription] = await subscriptions(integration);
    assert.equal(subscription?.status, 'confirmed');
    assert.equal(subscription?.subscriptionArn, null);
    const res = await post(integration.path, unsubscribeConfirmation(), {
      'x-amz-sns-subscription-arn': LIVE,
    });
    assert.equal(res.body.verdict, 'unsubscribed', JSON.stringify(res.body));
  });
});

describe('a pending confirmation', () => {
  it('is no longer settled by a notification once the confirmation token has expired', async () => {
    const integration = await addIntegration();
    await sql(
      `INSERT INTO sns_subscriptions (integration_id, topic_arn, status, updated_at)
       VALUES ($1, $2, 'pending', now() - interval '3 days 1 minute')`,
      [integration.id, TOPIC],
    );
    const refused = await post(integration.path, notification(await importedEvent((f) => (f.Id += '-late'))));
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await subscriptions(integration))[0]?.status, 'pending');
    await sql(
      `UPDATE sns_subscriptions SET updated_at = now() - interval '2 days' WHERE integration_id = $1`,
      [integration.id],
    );
    const taken = await post(integration.path, notification(await importedEvent((f) => (f.Id += '-late2'))));
    assert.equal(taken.status, 200, JSON.stringify(taken.body));
  });
});

describe('every confirmed subscription of a topic is known', () => {
  it('keeps the topic on when a CloudFormation rollback removes the newer of two live subscriptions', async () => {
    const integration = await addIntegration();
    await confirmAs(integration, OLD);
    await confirmAs(integration, LIVE); // the replacement, while OLD still delivers
    const rolledBack = await post(integration.path, unsubscribeConfirmation(deactivated(LIVE)), {
      'x-amz-sns-subscription-arn': LIVE,
    });
    assert.equal(rolledBack.body.verdict, 'ignored', JSON.stringify(rolledBack.body));
    assert.match(rolledBack.body.reason, new RegExp(`${OLD} still delivers`));
    const [subscription] = await subscriptions(integration);
    assert.equal(subscription?.status, 'confirmed');
    assert.equal(subscription?.subscriptionArn, OLD);
    const delivered = await post(integration.path, notification(await importedEvent((f) => (f.Id += '-rb'))));
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    // The last one known removed: now the topic is off, and somebody hears of it.
    const last = await post(integration.path, unsubscribeConfirmation(deactivated(OLD)));
    assert.equal(last.body.verdict, 'unsubscribed', JSON.stringify(last.body));
    assert.equal(last.body.alertIds.length, 1);
    assert.equal((await subscriptions(integration))[0]?.status, 'unsubscribed');
  });
});

describe('a new key', () => {
  it('forgets the subscriptions confirmed under the old key: the last one confirmed since is the last one', async () => {
    const integration = await addIntegration();
    await confirmAs(integration, OLD);
    // `vigil aws setup --regenerate-key`: a new key, a subscription to the new URL, the old one removed.
    // The old one's UnsubscribeConfirmation goes to the old URL, whose key is dead, so Vigil never sees it.
    const regenerated = await server.call('POST', `/v2/integrations/${integration.id}/api-key`);
    assert.equal(regenerated.status, 200, JSON.stringify(regenerated.body));
    const url = new URL(regenerated.body.data.endpointUrl as string);
    const renewed = {
      ...integration,
      apiKey: regenerated.body.data.apiKey as string,
      endpointUrl: url.href,
      path: `${url.pathname}${url.search}`,
    };
    intake.integrationByKey.set(renewed.apiKey, renewed.id);
    await confirmAs(renewed, LIVE);
    // The new subscription is deleted: nothing delivers any more, and somebody must hear of it.
    const removed = await post(renewed.path, unsubscribeConfirmation(deactivated(LIVE)), {
      'x-amz-sns-subscription-arn': LIVE,
    });
    assert.equal(removed.body.verdict, 'unsubscribed', JSON.stringify(removed.body));
    assert.equal(removed.body.alertIds.length, 1);
    assert.equal((await subscriptions(renewed))[0]?.status, 'unsubscribed');
  });
});
