import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../logger.js';
import { startFakePushService, type FakePushService } from '../../testing/fake-push.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import type { NotificationActionType } from '../../oncall/model.js';
import { systemClock } from '../../work/clock.js';
import type { OutgoingNotification } from '../channel.js';
import { createPushChannel, topicOf } from './channel.js';

/**
 * The Topic of each push (RFC 8030 §5.4): the push service replaces a pending message with a newer one of
 * the same topic, its TTL and urgency too. A page held for a sleeping phone may be replaced by the same
 * page repeated, or by its acknowledgement or close (then nobody need wake), never by a note, which would
 * turn the high-urgency page into a normal one. Sent through the channel straight to the fake push service.
 */

let server: TestServer;
let fake: FakePushService;
let subscriptionId: string;
let userId: string;
const run = randomUUID().slice(0, 8);

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({ env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' } });
  const username = `topic-${run}@example.com`;
  const user = await server.callOk('POST', '/v2/users', {
    username,
    fullName: 'Topi',
    role: { name: 'User' },
  });
  userId = user.data.id as string;
  const key = (await server.callOk('POST', '/v2/api-keys', { name: 'phone', user: { id: userId } })).data
    .key as string;
  const publicKey = (await server.callOk('GET', '/api/console/push/key', undefined, key)).publicKey as string;
  const sub = fake.newSubscription({ applicationServerKey: publicKey });
  const made: Json = await server.callOk(
    'POST',
    '/api/console/push/subscriptions',
    { ...sub, deviceName: "Topi's phone" },
    key,
  );
  subscriptionId = made.id as string;
});

after(async () => {
  await server?.stop();
  await fake?.close();
});

function message(kind: NotificationActionType, alertId: string): OutgoingNotification {
  return {
    idempotencyKey: randomUUID(),
    notificationId: randomUUID(),
    kind,
    to: { address: subscriptionId, name: 'Topi', userId, timeZone: 'UTC' },
    alert: {
      id: alertId,
      orgId: randomUUID(),
      tinyId: '7',
      message: 'Disk full',
      description: '',
      priority: 'P1',
      status: kind === 'closed-alert' ? 'closed' : 'open',
      acknowledged: kind === 'acknowledged-alert',
      source: 'prometheus',
      entity: 'db-1',
      tags: [],
      details: {},
      count: 1,
      createdAt: new Date(),
      integrationName: null,
    },
    reason: 'on call',
    actor: 'Dana',
    ...(kind === 'add-note' ? { note: 'looking' } : {}),
    links: { view: 'https://vigil.example/alerts/7' },
  };
}

describe('the topic of a push', () => {
  it('is the alert’s for a page, its repeat, acknowledgement and close, and none for a note', async () => {
    const { db, config } = server.app.context;
    const channel = createPushChannel({
      db,
      config,
      log: createLogger('silent'),
      fetch: (input, init) => fetch(input, init),
      clock: systemClock,
    });
    const alertId = randomUUID();
    const kinds: NotificationActionType[] = [
      'create-alert',
      'add-note',
      'create-alert',
      'acknowledged-alert',
      'closed-alert',
    ];
    for (const kind of kinds) {
      const result = await channel.send(message(kind, alertId));
      assert.equal(result.status, 'sent', JSON.stringify(result));
    }
    const pushes = fake.received().filter((p) => (p.json as { alertId?: string }).alertId === alertId);
    assert.deepEqual(
      pushes.map((p) => [(p.json as { kind: string }).kind, p.urgency, p.topic]),
      [
        ['create-alert', 'high', topicOf(alertId)],
        ['add-note', 'normal', undefined],
        ['create-alert', 'high', topicOf(alertId)],
        ['acknowledged-alert', 'normal', topicOf(alertId)],
        ['closed-alert', 'normal', topicOf(alertId)],
      ],
    );
  });
});
