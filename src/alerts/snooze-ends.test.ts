import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { teamEscalatingTo } from '../testing/engine-by-hand.js';
import {
  alertLogs,
  createAlert,
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import { snoozeEndsQueue } from './snooze-ends.js';

/** The end of a snooze, against an acknowledgement made around it. */

const clock = new ShiftedClock();
let api: TestServer;
let person: string;

before(async () => {
  // No workers: the snooze-ends queue runs when the test runs it, and no escalation starts before.
  api = await startTestServer({ role: 'api', clock });
  person = await teamEscalatingTo(
    api,
    'Snooze',
    [0, 10].map((minutes) => ({ condition: 'if-not-acked', minutes })),
  );
});

after(async () => {
  await api?.stop();
});

async function alertOf(alertId: string): Promise<Json> {
  return (await api.callOk('GET', `/v2/alerts/${alertId}`)).data;
}

const logs = (alertId: string): Promise<string[]> => alertLogs(api, alertId);

describe('an acknowledgement just after a snooze ended', () => {
  it('ends the snooze first and stays acknowledged when the snooze-ends queue comes', async () => {
    const alertId = await createTeamAlert(api, 'acknowledged after its snooze', 'Snooze');
    const endTime = new Date(Date.now() + 3_600_000);
    await api.callOk('POST', `/v2/alerts/${alertId}/snooze`, { endTime: endTime.toISOString() });
    await waitFor('the snooze', async () => ((await alertOf(alertId)).snoozed ? true : undefined));
    // The end has passed (moved a second into the past, not waited for: a busy machine could take longer
    // than a short snooze to answer it); the snooze-ends queue has not run yet.
    await api.app.context.db
      .updateTable('alerts')
      .set({ snoozed_until: new Date(Date.now() - 1000) })
      .where('id', '=', alertId)
      .execute();
    await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: person });
    await waitFor('the acknowledgement', async () =>
      (await alertOf(alertId)).acknowledged ? true : undefined,
    );

    await snoozeEndsQueue(api.app.context.alerts, clock).round(clock.now());
    const alert = await alertOf(alertId);
    assert.equal(alert.acknowledged, true, 'still acknowledged');
    assert.equal(alert.snoozed, false);
    const lines = await logs(alertId);
    assert.ok(!lines.includes('Alert unacknowledged: the snooze ended'), lines.join('\n'));
    const ended = lines.indexOf('Snooze ended');
    const acked = lines.findIndex((l) => l.startsWith('Alert acknowledged by'));
    assert.ok(
      ended >= 0 && ended < acked,
      `the snooze ends before the acknowledgement:\n${lines.join('\n')}`,
    );

    // The engine, once it runs, pages nobody: the person who acknowledged has the alert.
    const worker = await startTestServer({
      databaseUrl: api.databaseUrl,
      role: 'worker',
      apiKey: api.key,
      clock,
      engineIntervalMs: 100,
    });
    try {
      await waitFor('the escalation', async () =>
        (await logs(alertId)).some((l) => l.startsWith('Team Snooze')) ? true : undefined,
      );
      await worker.idle();
    } finally {
      await worker.stop();
    }
    const paged = await api.app.context.db
      .selectFrom('notifications')
      .select('id')
      .where('alert_id', '=', alertId)
      .execute();
    assert.equal(paged.length, 0, `nobody is paged:\n${(await logs(alertId)).join('\n')}`);
    assert.equal((await alertOf(alertId)).acknowledged, true);
  });

  it('given again to an alert acknowledged before its snooze, ends the snooze and stands', async () => {
    const alertId = await createAlert(api, { message: 'acknowledged, snoozed, acknowledged' });
    await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: person });
    await waitFor('the acknowledgement', async () =>
      (await alertOf(alertId)).acknowledged ? true : undefined,
    );
    const endTime = new Date(Date.now() + 3_600_000).toISOString();
    await api.callOk('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await waitFor('the snooze', async () => ((await alertOf(alertId)).snoozed ? true : undefined));
    await api.app.context.db
      .updateTable('alerts')
      .set({ snoozed_until: new Date(Date.now() - 1000) })
      .where('id', '=', alertId)
      .execute();
    await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: person });
    await waitFor('the snooze ended', async () => ((await alertOf(alertId)).snoozed ? undefined : true));

    await snoozeEndsQueue(api.app.context.alerts, clock).round(clock.now());
    assert.equal((await alertOf(alertId)).acknowledged, true, 'still acknowledged');
    const lines = await logs(alertId);
    assert.ok(lines.includes('Snooze ended'), lines.join('\n'));
    assert.ok(!lines.includes('Alert unacknowledged: the snooze ended'), lines.join('\n'));
  });
});
