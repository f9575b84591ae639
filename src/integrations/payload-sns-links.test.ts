import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUserWithKey, type Json, type TestServer, type TestUser } from '../testing/harness.js';
import { securityHubIntake } from '../testing/securityhub-intake.js';

/**
 * The payload log is read by users who see every alert but may not manage the integration; an SNS
 * envelope's UnsubscribeURL, SubscribeURL and Token act on the subscription for whoever holds them.
 */

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:payload-log-links';
const intake = securityHubIntake({ topicArn: TOPIC });

let server: TestServer;
let seesAll: TestUser;

before(async () => {
  ({ server } = await intake.start());
  const run = randomUUID().slice(0, 6);
  seesAll = await addUserWithKey(server, 'sees-all', run);
  await server.callOk('POST', '/v2/roles', {
    name: `Sees all ${run}`,
    extendedRole: 'user',
    grantedRights: ['alerts-access-all'],
  });
  await server.callOk('PATCH', `/v2/users/${seesAll.id}`, { role: { name: `Sees all ${run}` } });
});

after(() => intake.stop());

describe("the payload log's SNS envelopes", () => {
  it('blank the subscription links and tokens for every reader, and a replay still verifies the stored body', async () => {
    const integration = await intake.addIntegration();
    const confirmed = await intake.confirm(integration);
    assert.equal(confirmed.res.status, 200, JSON.stringify(confirmed.res.body));

    const unsubscribeUrl = `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:${randomUUID()}`;
    const notification = intake.notification(
      await intake.importedEvent((f) => (f.Id += '-payload-log-links')),
      { UnsubscribeURL: unsubscribeUrl },
    );
    const delivered = await intake.post(integration.path, notification);
    assert.equal(delivered.body.verdict, 'created', JSON.stringify(delivered.body));

    // The stored body keeps the link: a replay checks the signature over it as it came.
    const replay = await server.call(
      'POST',
      `/v2/integrations/${integration.id}/payloads/${delivered.body.payloadId}/replay`,
    );
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.notEqual(replay.body.verdict, 'refused', JSON.stringify(replay.body));

    const unsubscribeToken = randomUUID();
    const unsubscribed = await intake.post(
      integration.path,
      intake.signed({
        Type: 'UnsubscribeConfirmation',
        Token: unsubscribeToken,
        Message: 'You have chosen to deactivate subscription',
        SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${unsubscribeToken}`,
      }),
    );
    assert.equal(unsubscribed.body.verdict, 'unsubscribed', JSON.stringify(unsubscribed.body));

    const secrets = [unsubscribeUrl, confirmed.token, unsubscribeToken];
    const ids = [confirmed.res.body.payloadId, delivered.body.payloadId, unsubscribed.body.payloadId];
    for (const [who, key] of [
      ['an org admin', server.key],
      ['a user who sees every alert', seesAll.key],
    ] as const) {
      const list = await server.call(
        'GET',
        `/v2/integrations/${integration.id}/payloads?includeBody=true`,
        undefined,
        key,
      );
      assert.equal(list.status, 200, `${who}: ${JSON.stringify(list.body)}`);
      const listed = new Map<string, Json>(list.body.data.map((d: Json) => [d.id, d]));
      for (const id of ids) {
        const one = await server.call(
          'GET',
          `/v2/integrations/${integration.id}/payloads/${id}`,
          undefined,
          key,
        );
        assert.equal(one.status, 200, `${who}: ${JSON.stringify(one.body)}`);
        for (const shown of [one.body.data.body, listed.get(id)?.body]) {
          assert.equal(typeof shown, 'string', `${who}: payload ${id} has its body`);
          for (const secret of secrets) assert.ok(!shown.includes(secret), `${who}: ${shown}`);
          const body = JSON.parse(shown);
          for (const field of ['UnsubscribeURL', 'SubscribeURL', 'Token']) {
            if (field in body) assert.equal(body[field], '[REDACTED]', `${who}: ${field}`);
          }
        }
      }
      const shownNotification = JSON.parse(listed.get(delivered.body.payloadId)?.body ?? '{}');
      assert.equal(shownNotification.UnsubscribeURL, '[REDACTED]');
      assert.equal(shownNotification.MessageId, notification.MessageId, 'the rest is as it came');
      assert.equal(shownNotification.Message, notification.Message);
      assert.equal(shownNotification.Signature, notification.Signature);
    }
  });
});
