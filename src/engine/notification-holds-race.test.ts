import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../testing/lock-waits.js';
import { systemClock } from '../work/clock.js';
import { notificationHoldsRepository } from './notification-holds.js';

/**
 * A notification policy's deduplicationAction changed while the engine decides to hold an alert
 * (notification-holds.ts): the engine read the policies before the change and writes the hold after it, so
 * the policy service's release finds nothing to release. The engine locks the policy's row and reads it
 * again before it holds: either it sees the change and holds nothing, or the change waits for it and
 * finds the hold. Each race is played with a second connection: the alert's row (or the hold's key) is
 * locked while the engine comes to it, the policy is changed through the API, and the lock let go.
 *
 * The API runs alone (`api`), so a new alert waits for a worker: the worker is started once the lock is
 * taken, and stopped after each test.
 */

let api: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
let ops: string;

const messages = async (alertId: string) =>
  (await db.query('SELECT count(*)::int AS n FROM notifications WHERE alert_id = $1', [alertId])).rows[0].n;
const holds = async (alertId: string) =>
  (await db.query('SELECT count(*)::int AS n FROM alert_notification_holds WHERE alert_id = $1', [alertId]))
    .rows[0].n;
const logs = async (alertId: string) =>
  (
    await db.query<{ log: string }>('SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id', [alertId])
  ).rows.map((r) => r.log);

async function policy(token: string, actions: Json): Promise<string> {
  const made = await api.callOk('POST', `/v2/policies?teamId=${ops}`, {
    type: 'notification',
    name: `${token} ${run}`,
    filter: {
      type: 'match-all-conditions',
      conditions: [{ field: 'message', operation: 'contains', expectedValue: `${token}-${run}` }],
    },
    ...actions,
  });
  return made.data.id;
}

async function alert(message: string, responders: Json[]): Promise<string> {
  const res = await api.callOk('POST', '/v2/alerts', { message, responders });
  return waitFor('the alert', async () => {
    const status = await api.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

const startWorker = () =>
  startTestServer({ role: 'worker', databaseUrl: api.databaseUrl, apiKey: api.key, engineIntervalMs: 100 });

/** What the sessions `locker` blocks are running. */
async function blockedQueries(locker: pg.Client): Promise<string[]> {
  const pid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
  const { rows } = await db.query<{ query: string }>(
    'SELECT query FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))',
    [pid],
  );
  return rows.map((r) => r.query);
}

before(async () => {
  api = await startTestServer({ role: 'api' });
  db = new pg.Client({ connectionString: api.databaseUrl });
  await db.connect();
  await api.callOk('POST', '/v2/users', {
    username: `ops-${run}@example.com`,
    fullName: 'ops',
    role: { name: 'User' },
  });
  ops = (
    await api.callOk('POST', '/v2/teams', {
      name: `Ops ${run}`,
      members: [{ user: { username: `ops-${run}@example.com` }, role: 'user' }],
    })
  ).data.id;
});

after(async () => {
  await db?.end();
  await api?.stop();
});

const dedupe = { deduplicationAction: { deduplicationActionType: 'value-based', count: 3 } };

describe('notification holds: a policy changed while the engine decides', () => {
  const changes: [string, (policyId: string) => Promise<unknown>][] = [
    ['deleted', (id) => api.callOk('DELETE', `/v2/policies/${id}?teamId=${ops}`)],
    ['disabled', (id) => api.callOk('POST', `/v2/policies/${id}/disable?teamId=${ops}`)],
    [
      'edited away',
      async (id) => {
        const read = (await api.callOk('GET', `/v2/policies/${id}?teamId=${ops}`)).data;
        const { id: _id, order: _order, teamId: _teamId, deduplicationAction: _dedupe, ...rest } = read;
        return api.callOk('PUT', `/v2/policies/${id}?teamId=${ops}`, {
          ...rest,
          autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
        });
      },
    ],
  ];
  for (const [how, change] of changes) {
    it(`${how} after the engine read it, before it held the alert: nothing is held, the team is paged`, async () => {
      const token = `race-${how.replace(' ', '-')}`;
      const policyId = await policy(token, dedupe);
      const alertId = await alert(`${token}-${run}`, [{ type: 'team', id: ops }]);
      const locker = await otherTransaction(api.databaseUrl);
      let worker: TestServer | undefined;
      try {
        await locker.query('SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE', [alertId]);
        worker = await startWorker();
        // The engine has read the policies and waits to mark the alert held.
        await whenWaitedFor(locker, { never: 'the engine never came to the alert' });
        assert.deepEqual(
          (await blockedQueries(locker)).map((q) => q.startsWith('update "alerts" set "notification_held"')),
          [true],
          (await blockedQueries(locker)).join('\n'),
        );
        await change(policyId);
        await locker.query('COMMIT');
        await worker.idle();
        assert.equal(await holds(alertId), 0, 'no hold on a policy that no longer de-duplicates');
        assert.ok((await messages(alertId)) > 0, 'the team is paged');
        assert.ok(
          (await logs(alertId)).some((l) =>
            l.startsWith(`Notifications not held by policy '${token} ${run}'`),
          ),
          (await logs(alertId)).join('\n'),
        );
      } finally {
        await locker.end();
        await worker?.stop();
      }
      if (how !== 'deleted') await api.callOk('DELETE', `/v2/policies/${policyId}?teamId=${ops}`);
    });
  }

  it('deleted while the engine holds the alert: the deletion waits, then lets the hold go', async () => {
    const token = 'race-after';
    const policyId = await policy(token, dedupe);
    const alertId = await alert(`${token}-${run}`, [{ type: 'team', id: ops }]);
    const locker = await otherTransaction(api.databaseUrl);
    let worker: TestServer | undefined;
    try {
      // The hold's key, taken first: the engine's hold waits for it after the engine checked the policy.
      await locker.query(
        `INSERT INTO alert_notification_holds (alert_id, team_id, org_id, policy_id, policy_name, count, occurrences)
         SELECT id, $2, org_id, $3, 'placeholder', 3, '{}' FROM alerts WHERE id = $1`,
        [alertId, ops, policyId],
      );
      worker = await startWorker();
      await whenWaitedFor(locker, { never: 'the engine never came to the hold' });
      assert.deepEqual(
        (await blockedQueries(locker)).map((q) => q.startsWith('insert into "alert_notification_holds"')),
        [true],
        (await blockedQueries(locker)).join('\n'),
      );
      let settled = false;
      const deletion = api.callOk('DELETE', `/v2/policies/${policyId}?teamId=${ops}`).finally(() => {
        settled = true;
      });
      // The deletion waits for the engine, which holds the policy's row (or, unlocked, is done at once).
      const deleting = await waitFor('the deletion to wait for the engine, or be done', async () => {
        if (settled) return 'done at once';
        const { rows } = await db.query(
          `SELECT 1 FROM pg_stat_activity
           WHERE query LIKE 'delete from "alert_policies"%' AND wait_event_type = 'Lock'`,
        );
        return rows.length > 0 ? 'waited' : undefined;
      });
      await locker.query('ROLLBACK');
      await deletion;
      await worker.idle();
      assert.equal(deleting, 'waited', 'the deletion waits for the engine’s hold');
      assert.equal(await holds(alertId), 0, 'the hold the deletion waited for is let go');
      assert.ok((await messages(alertId)) > 0, 'the team is paged');
      assert.ok(
        (await logs(alertId)).some((l) =>
          l.includes('go out: the policy is deleted, disabled or no longer de-duplicates'),
        ),
        (await logs(alertId)).join('\n'),
      );
    } finally {
      await locker.end();
      await worker?.stop();
    }
  });

  it('a hold left on a policy gone or no longer de-duplicating is let go by the maintenance round', async () => {
    const token = 'leftover';
    const kept = await policy(`${token}-kept`, dedupe);
    const plain = await policy(`${token}-plain`, { suppress: true });
    const gone = randomUUID();
    const worker = await startWorker();
    try {
      // Alerts that page nobody by themselves: only the holds put here (as a lost race would) hold the team.
      const ids: Record<string, string> = {};
      for (const [name, policyId] of [
        ['gone', gone],
        ['plain', plain],
        ['kept', kept],
      ] as const) {
        // Matched by no policy's filter (`leftover-<name>-<run>`), or the plain one would suppress it.
        const id = await alert(`${token}-${name}-alert-${run}`, []);
        await db.query(
          `INSERT INTO alert_notification_holds (alert_id, team_id, org_id, policy_id, policy_name, count, occurrences)
           SELECT id, $2, org_id, $3, $4, 3, '{}' FROM alerts WHERE id = $1`,
          [id, ops, policyId, `${token} ${name}`],
        );
        ids[name] = id;
      }
      await worker.idle();
      const now = systemClock.now();
      await notificationHoldsRepository.releaseMaintained(worker.app.context.db, now, now);
      await worker.idle();
      for (const name of ['gone', 'plain']) {
        const id = ids[name] ?? '';
        assert.equal(await holds(id), 0, name);
        assert.ok((await messages(id)) > 0, `${name}: the team is paged`);
      }
      assert.equal(await holds(ids.kept ?? ''), 1, 'a hold its policy still makes stays');
      assert.equal(await messages(ids.kept ?? ''), 0);
    } finally {
      await worker.stop();
    }
    for (const id of [kept, plain]) await api.callOk('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });
});
