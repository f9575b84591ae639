import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  alertLogs,
  createAlert,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Opsgenie's `assigned-alert` notification rules, end to end: an alert assigned to someone tells them by
 * the steps of their rule (never when they took it themselves), whether or not they were paged for it;
 * someone without such a rule hears nothing; a later step is not sent once the alert is closed.
 */

const MINUTE = 60_000;
const run = randomUUID().slice(0, 8);
const clock = new ShiftedClock();
let smtp: TestSmtpServer;
let server: TestServer;
/** Has an assigned-alert rule: email at once. */
let alice: TestUser;
/** Has an assigned-alert rule whose only step is 10 minutes later. */
let dave: TestUser;
/** Has no assigned-alert rule. */
let carol: TestUser;
/** Acts. */
let bob: TestUser;

async function addAssignedRule(user: TestUser, minutes: number): Promise<void> {
  await server.callOk('POST', `/v2/users/${user.username}/notification-rules`, {
    name: 'Assigned to me',
    actionType: 'assigned-alert',
    criteria: { type: 'match-all' },
    steps: [{ contact: { method: 'email', to: user.username }, sendAfter: { timeAmount: minutes } }],
  });
}

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@alerts.example.com>' },
  });
  alice = await addUserWithKey(server, 'alice', run);
  dave = await addUserWithKey(server, 'dave', run);
  carol = await addUserWithKey(server, 'carol', run);
  bob = await addUserWithKey(server, 'bob', run);
  await addAssignedRule(alice, 0);
  await addAssignedRule(dave, 10);
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

/** An alert that pages Bob only (so nobody else was paged for it). */
async function alertForBob(message: string): Promise<string> {
  return createAlert(server, { message, responders: [{ type: 'user', username: bob.username }] });
}

/** Acts on the alert with `key` and waits until the action is done. */
async function act(alertId: string, path: string, body: unknown, key: string): Promise<void> {
  const res = await server.callOk('POST', `/v2/alerts/${alertId}${path}`, body, key);
  const done = await waitFor(`${path} to be done`, async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data as { success: boolean; status: string } | undefined;
  });
  assert.ok(done.success, `${path}: ${done.status}`);
}

async function assignedMessages(alertId: string): Promise<{ address: string; state: string }[]> {
  return server.app.context.db
    .selectFrom('notifications')
    .select(['address', 'state'])
    .where('alert_id', '=', alertId)
    .where('kind', '=', 'assigned-alert')
    .orderBy('address')
    .execute();
}

describe('assigned-alert notification rules', () => {
  it('tell the new owner by their rule, though they were never paged for the alert', async () => {
    const message = `Root login from 203.0.113.9 ${run}`;
    const alertId = await alertForBob(message);
    await act(alertId, '/assign', { owner: { username: alice.username } }, bob.key);
    const mail = await waitFor('the assignment email to Alice', async () =>
      smtp.messages.find((m) => m.to.includes(alice.username) && m.headers['x-vigil-alert-id'] === alertId),
    );
    assert.ok(mail.text.startsWith('Assigned to you by bob: '), mail.text);
    assert.ok(mail.text.includes(`\n${message}\n`), mail.text);
    assert.ok(mail.text.includes(`bob assigned the alert to ${alice.username}, its new owner.`), mail.text);
    await server.idle();
    assert.deepEqual(await assignedMessages(alertId), [{ address: alice.username, state: 'sent' }]);
    const logs = await alertLogs(server, alertId);
    assert.ok(
      logs.some((l) => l === 'Notifying alice (its new owner) by rule "Assigned to me": email at once'),
      logs.join('\n'),
    );
  });

  it('say nothing to someone without such a rule, nor to whoever assigned the alert to themselves', async () => {
    // Alice may act on it as one of its responders.
    const alertId = await createAlert(server, {
      message: `Port scan ${run}`,
      responders: [bob, alice].map((u) => ({ type: 'user', username: u.username })),
    });
    await act(alertId, '/assign', { owner: { username: carol.username } }, bob.key);
    await act(alertId, '/assign', { owner: { username: alice.username } }, alice.key);
    await server.idle();
    assert.deepEqual(await assignedMessages(alertId), []);
    assert.ok(
      !smtp.messages.some((m) => m.headers['x-vigil-alert-id'] === alertId && m.text.startsWith('Assigned')),
    );
  });

  it('do not send a later step once the alert is closed', async () => {
    const alertId = await alertForBob(`S3 bucket made public ${run}`);
    await act(alertId, '/assign', { owner: { username: dave.username } }, bob.key);
    await server.idle();
    assert.deepEqual(await assignedMessages(alertId), [{ address: dave.username, state: 'pending' }]);
    await act(alertId, '/close', {}, bob.key);
    await server.idle();
    clock.advance(11 * MINUTE);
    await server.idle();
    assert.deepEqual(await assignedMessages(alertId), [{ address: dave.username, state: 'cancelled' }]);
    assert.ok(!smtp.messages.some((m) => m.to.includes(dave.username)));
  });

  it('can be made, read back and listed with the Opsgenie action type', async () => {
    const rules = await server.callOk('GET', `/v2/users/${alice.username}/notification-rules`);
    const assigned = (rules.data as { name: string; actionType: string }[]).filter(
      (r) => r.actionType === 'assigned-alert',
    );
    assert.deepEqual(
      assigned.map((r) => r.name),
      ['Assigned to me'],
    );
  });
});
