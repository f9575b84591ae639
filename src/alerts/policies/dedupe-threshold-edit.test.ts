import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ShiftedClock } from '../../work/clock.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

/**
 * A notification policy's deduplicationAction edited while it holds alerts (engine/notification-holds.ts):
 * the holds wait for the new count and window, not those the policy had when they began. An alert that
 * has already occurred often enough for the new one is paged at once, without waiting for another
 * occurrence; one that has not waits for the new count.
 */

const MINUTE = 60_000;
let server: TestServer;
let db: pg.Client;
const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let ops: string;

const call = (method: string, path: string, body?: unknown) => server.callOk(method, path, body);

const messages = async (alertId: string) =>
  (await db.query('SELECT count(*)::int AS n FROM notifications WHERE alert_id = $1', [alertId])).rows[0].n;
const holds = async (alertId: string) =>
  (await db.query('SELECT count(*)::int AS n FROM alert_notification_holds WHERE alert_id = $1', [alertId]))
    .rows[0].n;
const logs = async (alertId: string) =>
  (
    await db.query<{ log: string }>('SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id', [alertId])
  ).rows.map((r) => r.log);

/** A policy holding the team's alerts with `token` in their message, and a create of such an alert. */
async function holding(token: string, deduplicationAction: Json) {
  const made = await call('POST', `/v2/policies?teamId=${ops}`, {
    type: 'notification',
    name: `${token} ${run}`,
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'message', operation: 'contains', expectedValue: `${token}-${run}` }],
    },
    deduplicationAction,
  });
  const policy: string = made.data.id;
  const body = {
    message: `${token}-${run}`,
    alias: `${token}-${run}`,
    responders: [{ type: 'team', id: ops }],
  };
  /** Creates the alert, or de-duplicates it; its id once the request is done and the engine idle. */
  const occur = async (): Promise<string> => {
    const res = await call('POST', '/v2/alerts', body);
    const id = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    await server.idle();
    return id;
  };
  const edit = async (dedupe: Json) => {
    const read = (await call('GET', `/v2/policies/${policy}?teamId=${ops}`)).data;
    const { id: _id, order: _order, teamId: _teamId, ...rest } = read;
    await call('PUT', `/v2/policies/${policy}?teamId=${ops}`, { ...rest, deduplicationAction: dedupe });
    await server.idle();
  };
  const remove = () => call('DELETE', `/v2/policies/${policy}?teamId=${ops}`);
  return { occur, edit, remove };
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await call('POST', '/v2/users', {
    username: `ops-${run}@example.com`,
    fullName: 'ops',
    role: { name: 'User' },
  });
  ops = (
    await call('POST', '/v2/teams', {
      name: `Ops ${run}`,
      members: [{ user: { username: `ops-${run}@example.com` }, role: 'user' }],
    })
  ).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('notification policies: editing a deduplicationAction that holds alerts', () => {
  it('a count lowered below the occurrences so far pages the team at once', async () => {
    const policy = await holding('lowered', { deduplicationActionType: 'value-based', count: 10 });
    const id = await policy.occur();
    await policy.occur();
    await policy.occur();
    assert.equal(await holds(id), 1);
    assert.equal(await messages(id), 0);
    await policy.edit({ deduplicationActionType: 'value-based', count: 2 });
    assert.equal(await holds(id), 0, 'no occurrence needed: the change alone lets it go');
    assert.ok((await messages(id)) > 0, 'the team is paged');
    assert.ok(
      (await logs(id)).some((l) => l.endsWith('go out: the alert occurred 3 times')),
      (await logs(id)).join('\n'),
    );
    await policy.remove();
  });

  it('a count lowered above the occurrences so far, or raised, is what the next occurrences must reach', async () => {
    const lowered = await holding('lowered-later', { deduplicationActionType: 'value-based', count: 10 });
    const raised = await holding('raised', { deduplicationActionType: 'value-based', count: 3 });
    const low = await lowered.occur();
    const high = await raised.occur();
    await lowered.edit({ deduplicationActionType: 'value-based', count: 3 });
    await raised.edit({ deduplicationActionType: 'value-based', count: 5 });
    await lowered.occur();
    await raised.occur();
    assert.equal(await messages(low), 0, 'twice is not three times');
    assert.equal(await holds(low), 1);
    await lowered.occur();
    await raised.occur();
    assert.ok((await messages(low)) > 0, 'the third occurrence meets the new count of 3');
    assert.equal(await holds(low), 0);
    assert.equal(await messages(high), 0, 'three times is not the new count of 5');
    assert.equal(await holds(high), 1);
    await raised.occur();
    await raised.occur();
    assert.ok((await messages(high)) > 0, 'the fifth occurrence meets it');
    assert.equal(await holds(high), 0);
    await lowered.remove();
    await raised.remove();
  });

  it('a frequency-based window widened over the occurrences held pages the team at once', async () => {
    const policy = await holding('widened', {
      deduplicationActionType: 'frequency-based',
      count: 2,
      duration: { timeAmount: 10, timeUnit: 'minutes' },
    });
    const id = await policy.occur();
    clock.advance(11 * MINUTE);
    await policy.occur();
    assert.equal(await messages(id), 0, 'eleven minutes apart are not two within ten');
    assert.equal(await holds(id), 1);
    await policy.edit({
      deduplicationActionType: 'frequency-based',
      count: 2,
      duration: { timeAmount: 20, timeUnit: 'minutes' },
    });
    assert.equal(await holds(id), 0);
    assert.ok((await messages(id)) > 0, 'two within twenty minutes: the team is paged');
    await policy.remove();
  });
});
