import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { engineByHand, type EngineByHand } from '../../testing/engine-by-hand.js';
import { alertLogs, createAlert, startTestServer, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * A responder, or an escalation the escalate action names, deleted between the request and the engine's
 * turn: nobody is paged for it, and the alert's log says so rather than passing over it in silence (or, for
 * a team, claiming that every member is notified).
 */

const clock = new ShiftedClock();
let api: TestServer;
let byHand: EngineByHand;
const run = randomUUID().slice(0, 8);
const stays = `stays-${run}@example.com`;

before(async () => {
  // No workers: the test hands the events to the engine itself, once it has deleted what it wants gone.
  api = await startTestServer({ role: 'api', clock });
  await api.callOk('POST', '/v2/users', { username: stays, fullName: 'Stays', role: { name: 'User' } });
  byHand = engineByHand(api, clock);
});

after(async () => {
  await api?.stop();
});

const runsOf = async (alertId: string) =>
  (
    await api.app.context.db
      .selectFrom('alert_escalations')
      .select('source')
      .where('alert_id', '=', alertId)
      .orderBy('source')
      .execute()
  ).map((r) => r.source);

const idOf = async (username: string) =>
  (await api.callOk('GET', `/v2/users/${encodeURIComponent(username)}`)).data.id as string;

describe('a responder deleted before the engine starts the alert', () => {
  it('a user: nobody is paged for them, and the log says so', async () => {
    const gone = `gone-${run}@example.com`;
    await api.callOk('POST', '/v2/users', { username: gone, fullName: 'Gone', role: { name: 'User' } });
    const alertId = await createAlert(api, {
      message: `user gone ${run}`,
      responders: [
        { type: 'user', username: gone },
        { type: 'user', username: stays },
      ],
    });
    await api.callOk('DELETE', `/v2/users/${encodeURIComponent(gone)}`);
    await byHand.handle(alertId, 'created');
    const lines = await alertLogs(api, alertId);
    assert.ok(
      lines.includes('A user responder no longer exists: nobody is paged for them'),
      lines.join('\n'),
    );
    assert.equal((await runsOf(alertId)).length, 1, 'the other responder still escalates');
  });

  it('a team: nobody is paged for it, and the log does not say every member is notified', async () => {
    const team = `Gone team ${run}`;
    await api.callOk('POST', '/v2/teams', { name: team, members: [{ user: { username: stays } }] });
    const alertId = await createAlert(api, {
      message: `team gone ${run}`,
      responders: [{ type: 'team', name: team }],
    });
    await api.callOk('DELETE', `/v2/teams/${encodeURIComponent(team)}?identifierType=name`);
    await byHand.handle(alertId, 'created');
    const lines = await alertLogs(api, alertId);
    assert.ok(lines.includes('A team responder no longer exists: nobody is paged for it'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('every member is notified')), lines.join('\n'));
    assert.deepEqual(await runsOf(alertId), []);
  });
});

describe('the escalate action, its escalation deleted before the engine runs it', () => {
  it('pages nobody, and the log says so', async () => {
    const policy = `Gone policy ${run}`;
    await api.callOk('POST', '/v2/escalations', {
      name: policy,
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: stays },
        },
      ],
    });
    const alertId = await createAlert(api, {
      message: `escalation gone ${run}`,
      responders: [{ type: 'user', username: stays }],
    });
    await byHand.handle(alertId, 'created');
    await api.callOk('POST', `/v2/alerts/${alertId}/escalate`, { escalation: { name: policy } });
    await api.callOk('DELETE', `/v2/escalations/${encodeURIComponent(policy)}?identifierType=name`);
    await byHand.handle(alertId, 'escalated');
    assert.deepEqual(await runsOf(alertId), [`user:${await idOf(stays)}`]);
    const lines = await alertLogs(api, alertId);
    assert.ok(
      lines.includes('Escalated, but the escalation no longer exists: nobody is paged for it'),
      lines.join('\n'),
    );
  });
});
