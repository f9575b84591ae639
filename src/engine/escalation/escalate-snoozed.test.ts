import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { AlertEvent } from '../../alerts/events.js';
import { engineByHand, type EngineByHand } from '../../testing/engine-by-hand.js';
import {
  alertLogs,
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Escalating a snoozed alert: the person asks for the next rule now, so the escalate ends the snooze and
 * the next rule pages at once, rather than the run pausing again and starting over at the snooze's end.
 */

const clock = new ShiftedClock();
const MINUTE = 60_000;
const TEAM = 'Dozing';
let api: TestServer;
let byHand: EngineByHand;
/** The person of each rule of the team's policy, and the one of a policy the alert is not on. */
let first: string;
let second: string;
let other: string;

async function addUser(name: string): Promise<string> {
  const username = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
  await api.callOk('POST', '/v2/users', { username, fullName: name, role: { name: 'User' } });
  return username;
}

async function addPolicy(name: string, rules: { username: string; minutes: number }[]): Promise<void> {
  await api.callOk('POST', '/v2/escalations', {
    name,
    rules: rules.map(({ username, minutes }) => ({
      condition: 'if-not-acked',
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient: { type: 'user', username },
    })),
  });
}

before(async () => {
  // No workers: the test hands the events to the engine itself.
  api = await startTestServer({ role: 'api', clock });
  first = await addUser('First');
  second = await addUser('Second');
  other = await addUser('Other');
  await api.callOk('POST', '/v2/teams', {
    name: TEAM,
    members: [{ user: { username: first } }, { user: { username: second } }],
  });
  await addPolicy('Dozing policy', [
    { username: first, minutes: 0 },
    { username: second, minutes: 30 },
  ]);
  await addPolicy('Other policy', [{ username: other, minutes: 0 }]);
  await api.callOk('PUT', `/v2/teams/${TEAM}/routing-rules/default?teamIdentifierType=name`, {
    notify: { type: 'escalation', name: 'Dozing policy' },
  });
  byHand = engineByHand(api, clock);
});

after(async () => {
  await api?.stop();
});

/** How many messages the alert has for the user. */
async function pages(alertId: string, username: string): Promise<number> {
  const rows = await api.app.context.db
    .selectFrom('notifications')
    .innerJoin('users', 'users.id', 'notifications.user_id')
    .select('notifications.id')
    .where('notifications.alert_id', '=', alertId)
    .where('users.username', '=', username)
    .execute();
  return rows.length;
}

/**
 * Hands the alert's events of these types to the engine, in the order they were made (one batch), or in
 * the order of `types` (one batch each: events are handled in order only within a batch).
 */
async function handleInOrder(alertId: string, types: AlertEvent['type'][], asListed = false): Promise<void> {
  const { rows } = await sql<{ payload: AlertEvent }>`
    SELECT payload FROM outbox_jobs
    WHERE payload->>'alertId' = ${alertId} AND payload->>'type' = ANY(${types}::text[])
    ORDER BY id`.execute(api.app.context.db);
  const events = rows.map((r) => r.payload);
  const batches = asListed ? types.map((t) => events.filter((e) => e.type === t)) : [events];
  for (const batch of batches)
    assert.deepEqual(await byHand.engine.consumer.handleBatch?.(batch, { log: byHand.log }), { failed: [] });
}

/** The actor of each of the alert's events, as the outbox records it (the last of a type). */
async function actorsOf(alertId: string): Promise<Map<AlertEvent['type'], AlertEvent['actor']>> {
  const { rows } = await sql<{ payload: AlertEvent }>`
    SELECT payload FROM outbox_jobs WHERE payload->>'alertId' = ${alertId} ORDER BY id`.execute(
    api.app.context.db,
  );
  return new Map(rows.map((r) => [r.payload.type, r.payload.actor]));
}

/** Snoozes the alert for an hour, has the engine pause its escalation, and escalates it; the snooze's end. */
async function snoozeThenEscalate(
  alertId: string,
  policy: string,
  order: AlertEvent['type'][] = ['escalated', 'snooze_ended'],
): Promise<string> {
  const endTime = new Date(Date.now() + 60 * MINUTE).toISOString();
  await api.callOk('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
  await byHand.handle(alertId, 'snoozed');
  const res = await api.call('POST', `/v2/alerts/${alertId}/escalate`, {
    escalation: { name: policy },
    user: 'Erin',
  });
  assert.equal(res.status, 202);
  assert.equal(res.body.result, 'Request will be processed');
  await waitFor('the escalate', async () =>
    (await alertLogs(api, alertId)).some((l) => l.startsWith('Escalated to the next rule')),
  );
  const made = (['escalated', 'snooze_ended', 'unacknowledged'] as const).filter((t) => order.includes(t));
  await handleInOrder(
    alertId,
    order,
    order.some((t, i) => t !== made[i]),
  );
  return endTime;
}

/** At the snooze's original end, its queue finds nothing to end and the engine nothing to run. */
async function passOriginalEnd(alertId: string, endTime: string): Promise<void> {
  const due = await api.app.context.alerts.dueSnoozes(new Date(Date.parse(endTime) + MINUTE), 100);
  assert.ok(!due.some((s) => s.id === alertId), 'the snooze is not ended a second time');
  assert.equal(await api.app.context.alerts.endSnooze(alertId, endTime), false);
  clock.advance(61 * MINUTE);
  await byHand.engine.runDue(clock.now());
}

describe('escalating a snoozed alert', () => {
  it('ends the snooze and pages the next rule now; its original end starts nothing over', async () => {
    const alertId = await createTeamAlert(api, 'escalated while snoozed', TEAM);
    await byHand.handle(alertId, 'created');
    assert.equal(await pages(alertId, first), 1, 'the first rule paged');

    const endTime = await snoozeThenEscalate(alertId, 'Dozing policy');
    assert.equal(await pages(alertId, second), 1, 'the second rule paged at once');
    assert.equal(await pages(alertId, first), 1, 'the first rule did not page again');
    const alert: Json = await api.callOk('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.data.snoozed, false);
    assert.equal(alert.data.snoozedUntil, undefined);
    const lines = await alertLogs(api, alertId);
    assert.ok(lines.includes('Snooze ended: the alert was escalated by Erin'), lines.join('\n'));
    const sinceEscalate = lines.slice(lines.findIndex((l) => l.startsWith('Escalated to the next rule')));
    assert.ok(!sinceEscalate.some((l) => l.includes('paused: the alert was snoozed')), lines.join('\n'));

    await passOriginalEnd(alertId, endTime);
    assert.equal(await pages(alertId, first), 1, 'nothing started over from the first rule');
    assert.equal(await pages(alertId, second), 1);
    const after = await alertLogs(api, alertId);
    assert.ok(!after.some((l) => l.includes('starts again from its first rule')), after.join('\n'));
  });

  for (const order of [
    ['escalated', 'snooze_ended', 'unacknowledged'],
    ['escalated', 'unacknowledged', 'snooze_ended'],
    ['snooze_ended', 'escalated', 'unacknowledged'],
    ['snooze_ended', 'unacknowledged', 'escalated'],
    ['unacknowledged', 'escalated', 'snooze_ended'],
    ['unacknowledged', 'snooze_ended', 'escalated'],
  ] satisfies AlertEvent['type'][][])
    it(`on an acknowledged alert, ${order.join(' then ')}: unacknowledges it, pages the next rule once`, async () => {
      const alertId = await createTeamAlert(
        api,
        `acknowledged, escalated while snoozed: ${order.join()}`,
        TEAM,
      );
      await byHand.handle(alertId, 'created');
      assert.equal(await pages(alertId, first), 1, 'the first rule paged');
      await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await waitFor('the acknowledgement', async () =>
        (await alertLogs(api, alertId)).some((l) => l.startsWith('Alert acknowledged')),
      );
      await byHand.handle(alertId, 'acknowledged');

      const endTime = await snoozeThenEscalate(alertId, 'Dozing policy', order);
      assert.equal(await pages(alertId, second), 1, 'the second rule paged at once');
      assert.equal(await pages(alertId, first), 1, 'the first rule did not page again');
      const alert: Json = await api.callOk('GET', `/v2/alerts/${alertId}`);
      assert.equal(alert.data.snoozed, false);
      assert.equal(alert.data.acknowledged, false);
      const lines = await alertLogs(api, alertId);
      assert.ok(lines.includes('Alert unacknowledged: the snooze ended'), lines.join('\n'));
      // What mirrors the acknowledgement (Slack, webhooks, Security Hub) credits the unacknowledge to Vigil,
      // as at a timed end: the person asked for the next rule.
      const actors = await actorsOf(alertId);
      assert.deepEqual(actors.get('unacknowledged'), { kind: 'system', name: 'Vigil' });
      assert.deepEqual(actors.get('snooze_ended'), { kind: 'system', name: 'Vigil' });
      assert.equal(actors.get('escalated')?.name, 'Erin');

      await passOriginalEnd(alertId, endTime);
      assert.equal(await pages(alertId, first), 1, 'nothing started over from the first rule');
      assert.equal(await pages(alertId, second), 1);
    });

  it('starts a policy the alert is not on now, at its first rule', async () => {
    const alertId = await createTeamAlert(api, 'escalated to another policy while snoozed', TEAM);
    await byHand.handle(alertId, 'created');

    const endTime = await snoozeThenEscalate(alertId, 'Other policy');
    assert.equal(await pages(alertId, other), 1, 'the other policy paged at once');
    const alert: Json = await api.callOk('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.data.snoozed, false);
    const lines = await alertLogs(api, alertId);
    assert.ok(lines.includes('Escalated: Other policy starts now at its first rule'), lines.join('\n'));
    assert.ok(lines.includes('Snooze ended: the alert was escalated by Erin'), lines.join('\n'));

    await passOriginalEnd(alertId, endTime);
    assert.equal(await pages(alertId, other), 1, 'the other policy did not page again');
  });
});
