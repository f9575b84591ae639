import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ShiftedClock } from '../../work/clock.js';
import { alertLogs, createAlert, startTestServer, waitFor, type TestServer } from '../../testing/harness.js';

/**
 * A team's escalation that a notification policy's delayAction put off, paused and resumed before the
 * delay is over, on the real server with a clock the test moves: it still pages at the delay's end, not
 * never (acknowledge then unacknowledge) and not at once (a snooze that ends first).
 *
 * The set-up: team Ops (one member, no routing rules, so paged at once by email) with a policy that
 * delays the alerts it matches by 10 minutes.
 */

const MINUTE = 60_000;
let server: TestServer;
let db: pg.Client;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
const user = `ops-${run}@example.com`;
let ops: string;

const call = (method: string, path: string, body?: unknown) => server.callOk(method, path, body);

const alert = (message: string) => createAlert(server, { message, responders: [{ type: 'team', id: ops }] });

/** The pages sent about the alert (the acknowledge and unacknowledge messages left out). */
async function pages(alertId: string): Promise<number> {
  const { rows } = await db.query(
    "SELECT count(*)::int AS n FROM notifications WHERE alert_id = $1 AND kind = 'create-alert'",
    [alertId],
  );
  return rows[0].n;
}

const logged = (alertId: string, what: string, line: RegExp) =>
  waitFor(what, async () => (await alertLogs(server, alertId)).some((l) => line.test(l)));

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await call('POST', '/v2/users', { username: user, fullName: 'ops', role: { name: 'User' } });
  ops = (
    await call('POST', '/v2/teams', {
      name: `Ops ${run}`,
      members: [{ user: { username: user }, role: 'user' }],
    })
  ).data.id;
  await call('POST', `/v2/policies?teamId=${ops}`, {
    type: 'notification',
    name: `Wait ${run}`,
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'message', operation: 'contains', expectedValue: `wait-${run}` }],
    },
    delayAction: { delayOption: 'for-duration', duration: { timeAmount: 10, timeUnit: 'minutes' } },
  });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('a delayed escalation paused and resumed before the delay is over', () => {
  it('acknowledged then unacknowledged during the delay: the team is paged once the delay ends', async () => {
    const id = await alert(`ack-unack wait-${run}`);
    await server.idle();
    await call('POST', `/v2/alerts/${id}/acknowledge`, { user });
    await logged(id, 'the pause', /paused: the alert was acknowledged/);
    clock.advance(2 * MINUTE);
    await call('POST', `/v2/alerts/${id}/unacknowledge`, { user });
    await waitFor('the unacknowledge', async () => {
      const got = await server.call('GET', `/v2/alerts/${id}`);
      return got.body.data.acknowledged === false;
    });
    await server.idle();
    assert.equal(await pages(id), 0, 'not before the delay is over');

    clock.advance(7 * MINUTE);
    await server.idle();
    assert.equal(await pages(id), 0, 'not before the delay is over');

    clock.advance(2 * MINUTE);
    await waitFor('the page at the delay’s end', async () => (await pages(id)) > 0);
  });

  it('a snooze that ends during the delay: the team is paged at the delay’s end, not the snooze’s', async () => {
    const id = await alert(`snooze wait-${run}`);
    await server.idle();
    // The end of a snooze is on the wall clock: a real 3 seconds, well inside the 10-minute delay.
    await call('POST', `/v2/alerts/${id}/snooze`, { endTime: new Date(Date.now() + 3000).toISOString() });
    await logged(id, 'the pause', /paused: the alert was snoozed/);
    await logged(id, 'the snooze’s end', /starts again from its first rule: the snooze ended/);
    await server.idle();
    assert.equal(await pages(id), 0, 'not at the snooze’s end');

    clock.advance(9 * MINUTE);
    await server.idle();
    assert.equal(await pages(id), 0, 'not before the delay is over');

    clock.advance(2 * MINUTE);
    await waitFor('the page at the delay’s end', async () => (await pages(id)) > 0);
  });
});
