import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineByHand, teamEscalatingTo, type EngineByHand } from '../../testing/engine-by-hand.js';
import {
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * The end of a snooze handled after a later event of its alert: the event queue runs several loops, and
 * a failed event is retried while later ones go ahead. An acknowledgement of an alert whose snooze is past
 * its end ends the snooze first, in the same transaction: its two events may be handled either way round.
 */

const clock = new ShiftedClock();
const MINUTE = 60_000;
let api: TestServer;
let byHand: EngineByHand;
let person: string;

before(async () => {
  // No workers: the test hands the events to the engine itself, in the order it wants.
  api = await startTestServer({ role: 'api', clock });
  person = await teamEscalatingTo(api, 'Late', [
    { condition: 'if-not-acked', minutes: 0 },
    { condition: 'if-not-closed', minutes: 30 },
  ]);
  byHand = engineByHand(api, clock);
});

after(async () => {
  await api?.stop();
});

describe('the end of a snooze handled after the acknowledgement that followed it', () => {
  it('starts the escalation over, and its rule that runs until the alert is closed pages', async () => {
    const alertId = await createTeamAlert(api, 'snooze ended, told late', 'Late');
    await byHand.handle(alertId, 'created');
    const first = await byHand.pages(alertId);
    assert.ok(first > 0, 'the first rule paged');

    const endTime = new Date(Date.now() + 10 * MINUTE).toISOString();
    await api.callOk('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await byHand.handle(alertId, 'snoozed');
    // The snooze is past its end, and the snooze-ends queue has not reached it: the acknowledgement ends it.
    await api.app.context.db
      .updateTable('alerts')
      .set({ snoozed_until: new Date(Date.now() - 1000) })
      .where('id', '=', alertId)
      .execute();
    await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: person });
    await waitFor('the acknowledgement', async () => {
      const alert: Json = await api.callOk('GET', `/v2/alerts/${alertId}`);
      return alert.data.acknowledged === true && alert.data.snoozed === false ? true : undefined;
    });

    await byHand.handle(alertId, 'acknowledged');
    await byHand.handle(alertId, 'snooze_ended');
    const runs = await api.app.context.db
      .selectFrom('alert_escalations')
      .select(['state', 'pause_reason', 'step'])
      .where('alert_id', '=', alertId)
      .execute();
    assert.deepEqual(runs, [{ state: 'active', pause_reason: null, step: 1 }]);

    clock.advance(31 * MINUTE);
    await byHand.engine.runDue(clock.now());
    assert.ok((await byHand.pages(alertId)) > first, 'the rule that runs until the alert is closed paged');
  });
});
