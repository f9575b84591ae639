import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { AlertEvent } from '../../alerts/events.js';
import { engineByHand, type EngineByHand } from '../../testing/engine-by-hand.js';
import {
  alertLogs,
  createAlert,
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Where an escalate or an added responder meets a run at an edge: an escalate whose policy's next step is
 * its close after the last repeat, an escalate to a policy the alert is not on, and a responder added
 * again after a rule reached it and its escalation ended. Each is checked by what is paged, and when, on
 * the engine's clock (the test hands the events to the engine itself and runs its due steps).
 */

const clock = new ShiftedClock();
const MINUTE = 60_000;
const run = randomUUID().slice(0, 8);
let api: TestServer;
let byHand: EngineByHand;

async function addUser(name: string): Promise<string> {
  const username = `${name.toLowerCase()}-${run}@example.com`;
  await api.callOk('POST', '/v2/users', { username, fullName: name, role: { name: 'User' } });
  return username;
}

const rule = (minutes: number, recipient: Json) => ({
  condition: 'if-not-acked',
  notifyType: 'default',
  delay: { timeAmount: minutes },
  recipient,
});

async function addTeam(name: string, member: string, policy: string): Promise<void> {
  await api.callOk('POST', '/v2/teams', { name, members: [{ user: { username: member } }] });
  await api.callOk(
    'PUT',
    `/v2/teams/${encodeURIComponent(name)}/routing-rules/default?teamIdentifierType=name`,
    {
      notify: { type: 'escalation', name: policy },
    },
  );
}

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

/** Moves the clock on and runs every step due by then (a step may start another run due at once). */
async function advance(ms: number): Promise<void> {
  clock.advance(ms);
  while ((await byHand.engine.runDue(clock.now())) > 0);
}

async function statusOf(alertId: string): Promise<string> {
  return (await api.callOk('GET', `/v2/alerts/${alertId}`)).data.status as string;
}

/** Hands the alert's events of these types to the engine in one batch, in the order they were made. */
async function handleTogether(alertId: string, types: AlertEvent['type'][]): Promise<void> {
  const events = await waitFor('the events', async () => {
    const { rows } = await sql<{ payload: AlertEvent }>`
      SELECT payload FROM outbox_jobs
      WHERE payload->>'alertId' = ${alertId} AND payload->>'type' = ANY(${types}::text[])
      ORDER BY id`.execute(api.app.context.db);
    return rows.length === types.length && rows.map((r) => r.payload);
  });
  assert.deepEqual(await byHand.engine.consumer.handleBatch?.(events, { log: byHand.log }), { failed: [] });
}

async function escalate(alertId: string, policy?: string): Promise<void> {
  const before = (await alertLogs(api, alertId)).length;
  await api.callOk('POST', `/v2/alerts/${alertId}/escalate`, policy ? { escalation: { name: policy } } : {});
  await waitFor('the escalate', async () => (await alertLogs(api, alertId)).length > before);
}

/** The escalated events of the alert are many after several escalates: the last one. */
async function handleLastEscalate(alertId: string): Promise<void> {
  const { rows } = await sql<{ payload: AlertEvent }>`
    SELECT payload FROM outbox_jobs
    WHERE payload->>'alertId' = ${alertId} AND payload->>'type' = 'escalated'
    ORDER BY id DESC LIMIT 1`.execute(api.app.context.db);
  const event = rows[0]?.payload;
  assert.ok(event, 'an escalated event');
  assert.deepEqual(await byHand.engine.consumer.handleBatch?.([event], { log: byHand.log }), { failed: [] });
}

let closer: string;
let sec: string;
let ops: string;
let boss: string;

before(async () => {
  // No workers: the test hands the events to the engine itself.
  api = await startTestServer({ role: 'api', clock });
  byHand = engineByHand(api, clock);
  closer = await addUser('Closer');
  sec = await addUser('Sec');
  ops = await addUser('Ops');
  boss = await addUser('Boss');
  // One rule, no repeat, and the alert closed an hour after it.
  await api.callOk('POST', '/v2/escalations', {
    name: `Closer ${run}`,
    rules: [rule(0, { type: 'user', username: closer })],
    repeat: { waitInterval: 60, count: 0, closeAlertAfterAll: true },
  });
  await addTeam(`Closing ${run}`, closer, `Closer ${run}`);
  await api.callOk('POST', '/v2/escalations', {
    name: `OpsE ${run}`,
    rules: [rule(0, { type: 'user', username: ops })],
  });
  await addTeam(`Ops ${run}`, ops, `OpsE ${run}`);
  await api.callOk('POST', '/v2/escalations', {
    name: `SecE ${run}`,
    rules: [rule(0, { type: 'user', username: sec }), rule(5, { type: 'team', name: `Ops ${run}` })],
  });
  await addTeam(`Sec ${run}`, sec, `SecE ${run}`);
  // Still escalating 30 minutes on.
  await api.callOk('POST', '/v2/escalations', {
    name: `SlowOps ${run}`,
    rules: [rule(0, { type: 'user', username: ops }), rule(30, { type: 'user', username: ops })],
  });
  await addTeam(`Slow ${run}`, ops, `SlowOps ${run}`);
  await api.callOk('POST', '/v2/escalations', {
    name: `SecSlow ${run}`,
    rules: [rule(0, { type: 'user', username: sec }), rule(5, { type: 'team', name: `Slow ${run}` })],
  });
  await addTeam(`SecS ${run}`, sec, `SecSlow ${run}`);
  await api.callOk('POST', '/v2/escalations', {
    name: `Managers ${run}`,
    rules: [rule(15, { type: 'user', username: boss }), rule(25, { type: 'user', username: boss })],
  });
});

after(async () => {
  await api?.stop();
});

describe("an escalate when the policy's next step is its close", () => {
  it('leaves the close at its time: the alert is not closed early, and the log says why', async () => {
    const alertId = await createTeamAlert(api, 'closer, escalated', `Closing ${run}`);
    await byHand.handle(alertId, 'created');
    const paged = await pages(alertId, closer);
    assert.ok(paged > 0, 'the rule paged');
    await advance(2 * MINUTE);

    await escalate(alertId, `Closer ${run}`);
    await handleLastEscalate(alertId);
    assert.equal(await statusOf(alertId), 'open');
    // Naming no policy is the same.
    await escalate(alertId);
    await handleLastEscalate(alertId);
    assert.equal(await statusOf(alertId), 'open');
    const lines = await alertLogs(api, alertId);
    assert.equal(
      lines.filter((l) => l.startsWith(`Closer ${run} has no rule left to escalate to`)).length,
      2,
      lines.join('\n'),
    );
    assert.equal(await pages(alertId, closer), paged, 'nobody paged again');

    // The close still comes an hour after the rule, not before.
    await advance(57 * MINUTE);
    assert.equal(await statusOf(alertId), 'open');
    await advance(2 * MINUTE);
    assert.equal(await statusOf(alertId), 'closed');
    assert.ok((await alertLogs(api, alertId)).some((l) => l.includes(`Closer ${run} after its last repeat`)));
  });

  it('on a snoozed alert, starts the policy over as the end of the snooze does, not closing it', async () => {
    const alertId = await createTeamAlert(api, 'closer, snoozed then escalated', `Closing ${run}`);
    await byHand.handle(alertId, 'created');
    const paged = await pages(alertId, closer);
    await advance(2 * MINUTE);
    const endTime = new Date(Date.now() + 60 * MINUTE).toISOString();
    await api.callOk('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await byHand.handle(alertId, 'snoozed');
    await escalate(alertId, `Closer ${run}`);
    await handleTogether(alertId, ['escalated', 'snooze_ended']);
    assert.equal(await statusOf(alertId), 'open');
    assert.ok((await pages(alertId, closer)) > paged, 'its rule pages again, from its start');
  });
});

describe('a responder added again after an escalation rule reached it', () => {
  it("whose run started when the alert's creation was handled after the add: paged once", async () => {
    // The add commits before the engine handles the alert's creation (events are handled side by side),
    // which then starts team Ops with the alert's other responders; the add's own event comes next.
    const alertId = await createTeamAlert(api, 'ops added before the creation was handled', `Sec ${run}`);
    await api.callOk('POST', `/v2/alerts/${alertId}/teams`, { team: { name: `Ops ${run}` } });
    await byHand.handle(alertId, 'created');
    const paged = await pages(alertId, ops);
    assert.ok(paged > 0, 'team Ops paged with the creation');
    await byHand.handle(alertId, 'responder_added');
    assert.equal(await pages(alertId, ops), paged, 'not paged a second time by the add');
  });

  it('whose run goes on: nobody is paged twice, and the log says the team already escalates', async () => {
    const alertId = await createTeamAlert(api, 'slow reached, then added', `SecS ${run}`);
    await byHand.handle(alertId, 'created');
    await advance(5 * MINUTE);
    const reached = await pages(alertId, ops);
    assert.ok(reached > 0);

    await api.callOk('POST', `/v2/alerts/${alertId}/teams`, { team: { name: `Slow ${run}` } });
    await byHand.handle(alertId, 'responder_added');
    assert.equal(await pages(alertId, ops), reached);
    const lines = await alertLogs(api, alertId);
    assert.ok(lines.includes(`Team Slow ${run} already escalates this alert`), lines.join('\n'));
    // Its second rule keeps its time, 30 minutes after the rule reached the team.
    await advance(29 * MINUTE);
    assert.equal(await pages(alertId, ops), reached);
    await advance(2 * MINUTE);
    assert.equal(await pages(alertId, ops), 2 * reached);
  });
});

describe('an escalate to a policy the alert is not on', () => {
  it('pages its first rule now, and its later rules keep their spacing from it', async () => {
    const alertId = await createAlert(api, {
      message: 'escalated to managers',
      responders: [{ type: 'user', username: sec }],
    });
    await byHand.handle(alertId, 'created');
    await escalate(alertId, `Managers ${run}`);
    await handleLastEscalate(alertId);
    const first = await pages(alertId, boss);
    assert.ok(first > 0, 'the first rule paged at the escalate');
    assert.ok(
      (await alertLogs(api, alertId)).includes(`Escalated: Managers ${run} starts now at its first rule`),
    );
    // The second rule is 10 minutes after the first.
    await advance(9 * MINUTE);
    assert.equal(await pages(alertId, boss), first);
    await advance(2 * MINUTE);
    assert.equal(await pages(alertId, boss), 2 * first);
  });
});
