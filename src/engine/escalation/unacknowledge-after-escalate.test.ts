import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { engineByHand, teamEscalatingTo, type EngineByHand } from '../../testing/engine-by-hand.js';
import { alertLogs, createTeamAlert, startTestServer, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * An unacknowledge handled after an escalate made after it: the event queue runs several loops, and a
 * failed event is retried while later ones go ahead. The escalate sets the run's base time back by the
 * delay of the rule it makes due, to before the unacknowledge, which must not take the run for one that
 * started before it and page its first rule again.
 */

const clock = new ShiftedClock();
let api: TestServer;
let byHand: EngineByHand;
let person: string;

before(async () => {
  // No workers: the test hands the events to the engine itself, in the order it wants.
  api = await startTestServer({ role: 'api', clock });
  person = await teamEscalatingTo(api, 'Reordered', [
    { condition: 'if-not-acked', minutes: 0 },
    { condition: 'if-not-acked', minutes: 30 },
  ]);
  byHand = engineByHand(api, clock);
});

after(async () => {
  await api?.stop();
});

describe('an unacknowledge handled after a later escalate', () => {
  it('leaves the run as the escalate left it: the first rule does not page again', async () => {
    const alertId = await createTeamAlert(api, 'unacknowledged, then escalated', 'Reordered');
    await byHand.handle(alertId, 'created');
    const first = await byHand.pages(alertId);
    assert.ok(first > 0, 'the first rule paged');
    await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: person });
    await byHand.handle(alertId, 'acknowledged');

    await api.callOk('POST', `/v2/alerts/${alertId}/unacknowledge`, { user: person });
    await byHand.eventOf(alertId, 'unacknowledged');
    // Made strictly after the unacknowledge.
    await sleep(5);
    await api.callOk('POST', `/v2/alerts/${alertId}/escalate`, { user: person });
    await byHand.eventOf(alertId, 'escalated');

    await byHand.handle(alertId, 'escalated');
    const escalated = await byHand.pages(alertId);
    assert.ok(escalated > first, 'the second rule paged');
    await byHand.handle(alertId, 'unacknowledged');
    assert.equal(await byHand.pages(alertId), escalated, 'nothing paged again');
    const runs = await api.app.context.db
      .selectFrom('alert_escalations')
      .select(['state', 'finished_reason', 'step'])
      .where('alert_id', '=', alertId)
      .execute();
    assert.deepEqual(runs, [{ state: 'finished', finished_reason: 'completed', step: 2 }]);
    const lines = await alertLogs(api, alertId);
    assert.ok(!lines.some((l) => l.includes('starts again from its first rule')), lines.join('\n'));
  });
});
