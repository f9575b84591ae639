import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { AlertEvent } from '../../alerts/events.js';
import { createLogger } from '../../logger.js';
import {
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';
import { createEscalationEngine, type EscalationEngine } from './engine.js';

/**
 * The end of a snooze handled after a later event of its alert: the event queue runs several loops, and
 * a failed event is retried while later ones go ahead. An acknowledgement of an alert whose snooze is past
 * its end ends the snooze first, in the same transaction: its two events may be handled either way round.
 */

const clock = new ShiftedClock();
const log = createLogger('silent');
const MINUTE = 60_000;
let api: TestServer;
let engine: EscalationEngine;
const person = `late-${randomUUID().slice(0, 8)}@example.com`;

before(async () => {
  // No workers: the test hands the events to the engine itself, in the order it wants.
  api = await startTestServer({ role: 'api', clock });
  await api.callOk('POST', '/v2/users', {
    username: person,
    fullName: 'Late person',
    role: { name: 'User' },
  });
  await api.callOk('POST', '/v2/teams', { name: 'Late', members: [{ user: { username: person } }] });
  await api.callOk('POST', '/v2/escalations', {
    name: 'Late policy',
    rules: [
      { condition: 'if-not-acked', minutes: 0 },
      { condition: 'if-not-closed', minutes: 30 },
    ].map(({ condition, minutes }) => ({
      condition,
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient: { type: 'user', username: person },
    })),
  });
  await api.callOk('PUT', '/v2/teams/Late/routing-rules/default?teamIdentifierType=name', {
    notify: { type: 'escalation', name: 'Late policy' },
  });
  engine = createEscalationEngine({
    db: api.app.context.db,
    log,
    clock,
    alerts: api.app.context.alerts,
    signal: { wake: () => {} },
  });
});

after(async () => {
  await api?.stop();
});

async function eventOf(alertId: string, type: AlertEvent['type']): Promise<AlertEvent> {
  return waitFor(`the ${type} event`, async () => {
    const { rows } = await sql<{ payload: AlertEvent }>`
      SELECT payload FROM outbox_jobs WHERE payload->>'alertId' = ${alertId} AND payload->>'type' = ${type}
    `.execute(api.app.context.db);
    return rows[0]?.payload;
  });
}

async function handle(alertId: string, type: AlertEvent['type']): Promise<void> {
  assert.deepEqual(await engine.consumer.handleBatch?.([await eventOf(alertId, type)], { log }), {
    failed: [],
  });
}

const pages = async (alertId: string) =>
  (
    await api.app.context.db
      .selectFrom('notifications')
      .select('id')
      .where('alert_id', '=', alertId)
      .execute()
  ).length;

describe('the end of a snooze handled after the acknowledgement that followed it', () => {
  it('starts the escalation over, and its rule that runs until the alert is closed pages', async () => {
    const alertId = await createTeamAlert(api, 'snooze ended, told late', 'Late');
    await handle(alertId, 'created');
    const first = await pages(alertId);
    assert.ok(first > 0, 'the first rule paged');

    const endTime = new Date(Date.now() + 10 * MINUTE).toISOString();
    await api.callOk('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await handle(alertId, 'snoozed');
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

    await handle(alertId, 'acknowledged');
    await handle(alertId, 'snooze_ended');
    const runs = await api.app.context.db
      .selectFrom('alert_escalations')
      .select(['state', 'pause_reason', 'step'])
      .where('alert_id', '=', alertId)
      .execute();
    assert.deepEqual(runs, [{ state: 'active', pause_reason: null, step: 1 }]);

    clock.advance(31 * MINUTE);
    await engine.runDue(clock.now());
    assert.ok((await pages(alertId)) > first, 'the rule that runs until the alert is closed paged');
  });
});
