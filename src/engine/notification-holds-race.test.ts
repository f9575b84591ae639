import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../testing/lock-waits.js';
import { systemClock } from '../work/clock.js';
import type { Principal } from '../accounts/service.js';
import type { AnyPolicyBody } from '../alerts/policies/notification-model.js';
import { createNotificationPoliciesService } from '../alerts/policies/notification-service.js';
import type { Db, Tx } from '../db/database.js';
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
const autoCloses = async (alertId: string) =>
  (await db.query('SELECT count(*)::int AS n FROM alert_auto_closes WHERE alert_id = $1', [alertId])).rows[0]
    .n;
const autoRestarts = async (alertId: string) =>
  (await db.query('SELECT count(*)::int AS n FROM alert_auto_restarts WHERE alert_id = $1', [alertId]))
    .rows[0].n;

describe('notification holds: a policy changed while the engine decides', () => {
  // What the raced policy does besides: as the engine read it, it delays the team's page by two hours and
  // restarts it. Deleted or disabled, it does none of that; edited, it does what it does after the edit.
  const raced = {
    ...dedupe,
    delayAction: { delayOption: 'for-duration', duration: { timeAmount: 2, timeUnit: 'hours' } },
    autoRestartAction: { duration: { timeAmount: 10, timeUnit: 'minutes' }, maxRepeatCount: 2 },
  };
  const changes: [string, (policyId: string) => Promise<unknown>, { restarts: number; closes: number }][] = [
    ['deleted', (id) => api.callOk('DELETE', `/v2/policies/${id}?teamId=${ops}`), { restarts: 0, closes: 0 }],
    [
      'disabled',
      (id) => api.callOk('POST', `/v2/policies/${id}/disable?teamId=${ops}`),
      { restarts: 0, closes: 0 },
    ],
    [
      'edited away',
      async (id) => {
        const read = (await api.callOk('GET', `/v2/policies/${id}?teamId=${ops}`)).data;
        const {
          id: _id,
          order: _order,
          teamId: _teamId,
          deduplicationAction: _dedupe,
          delayAction: _delay,
          ...rest
        } = read;
        return api.callOk('PUT', `/v2/policies/${id}?teamId=${ops}`, {
          ...rest,
          autoCloseAction: { duration: { timeAmount: 1, timeUnit: 'days' } },
        });
      },
      // Its restart kept, its close added: what it does now.
      { restarts: 1, closes: 1 },
    ],
  ];
  for (const [how, change, after] of changes) {
    it(`${how} after the engine read it, before it held the alert: nothing is held, the team is paged at once`, async () => {
      const token = `race-${how.replace(' ', '-')}`;
      const policyId = await policy(token, raced);
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
        const said = await logs(alertId);
        assert.equal(await holds(alertId), 0, 'no hold on a policy that no longer de-duplicates');
        assert.ok(
          said.some((l) => l.startsWith(`Notifications not held by policy '${token} ${run}'`)),
          said.join('\n'),
        );
        assert.ok(!said.some((l) => l.startsWith('Notifications delayed')), said.join('\n'));
        assert.ok((await messages(alertId)) > 0, 'the team is paged at once');
        assert.equal(await autoRestarts(alertId), after.restarts, 'restarts');
        assert.equal(await autoCloses(alertId), after.closes, 'closes');
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
           WHERE query LIKE '%vigil_lock_names%' AND wait_event_type = 'Lock'`,
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

  it('the policies reordered while the engine, between two holds, waits: no deadlock, both held', async () => {
    // Made in this order (positions 0 and 1); the alerts in the other, so that the engine holds the second
    // policy's alert first, then comes to the first's while the change of order rewrites both positions.
    const first = await policy('reorder-first', dedupe);
    const second = await policy('reorder-second', dedupe);
    const secondAlert = await alert(`reorder-second-${run}`, [{ type: 'team', id: ops }]);
    const firstAlert = await alert(`reorder-first-${run}`, [{ type: 'team', id: ops }]);
    const deadlocks = async () =>
      (
        await db.query<{ n: string }>(
          'SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()',
        )
      ).rows[0]?.n;
    const deadlocksBefore = await deadlocks();
    const locker = await otherTransaction(api.databaseUrl);
    let worker: TestServer | undefined;
    try {
      await locker.query('SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE', [firstAlert]);
      worker = await startWorker();
      // The engine has held the second policy's alert, in the transaction that now waits for the first's.
      await whenWaitedFor(locker, { never: 'the engine never came to the first alert' });
      assert.deepEqual(
        (await blockedQueries(locker)).map((q) => q.startsWith('update "alerts" set "notification_held"')),
        [true],
        (await blockedQueries(locker)).join('\n'),
      );
      let settled = false;
      const reorder = api
        .call('POST', `/v2/policies/${first}/change-order?teamId=${ops}`, { targetIndex: 0 })
        .finally(() => {
          settled = true;
        });
      // The change of order rewrites both positions: done at once, or waiting for the engine.
      await waitFor('the change of order to be done, or wait for the engine', async () => {
        if (settled) return true;
        const { rows } = await db.query(
          `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%UPDATE alert_policies AS p SET position%'
             AND wait_event_type = 'Lock'`,
        );
        return rows.length > 0 || undefined;
      });
      await locker.query('COMMIT');
      const reordered = await reorder;
      await worker.idle();
      assert.equal(reordered.status, 200, JSON.stringify(reordered.body));
      assert.equal(await holds(secondAlert), 1, 'the second policy holds its alert');
      assert.equal(await holds(firstAlert), 1, 'the first policy holds its alert');
      assert.equal(await messages(secondAlert), 0);
      assert.equal(await messages(firstAlert), 0);
      const order = await api.callOk('GET', `/v2/policies/notification?teamId=${ops}`);
      const ids = (order.data as { id: string }[]).map((p) => p.id);
      assert.ok(ids.indexOf(first) < ids.indexOf(second), ids.join(', '));
      await db.query('SELECT pg_stat_clear_snapshot()');
      assert.equal(await deadlocks(), deadlocksBefore, 'no deadlock');
    } finally {
      await locker.end();
      await worker?.stop();
    }
    for (const id of [first, second]) await api.callOk('DELETE', `/v2/policies/${id}?teamId=${ops}`);
  });

  it('edited by one who read it before another edit: compared with the policy as that edit left it', async () => {
    const token = 'stale-read';
    const policyId = await policy(token, dedupe);
    const body = {
      message: `${token}-${run}`,
      alias: `${token}-${run}`,
      responders: [{ type: 'team', id: ops }],
    };
    const worker = await startWorker();
    try {
      const occur = async () => {
        const res = await api.callOk('POST', '/v2/alerts', body);
        const id = await waitFor('the alert', async () => {
          const status = await api.call('GET', `/v2/alerts/requests/${res.requestId}`);
          return status.body.data?.alertId as string | undefined;
        });
        await worker.idle();
        return id;
      };
      const alertId = await occur();
      assert.equal(await holds(alertId), 1, 'held until it occurs 3 times');
      const {
        id: _id,
        order: _order,
        teamId: _teamId,
        ...read
      } = (await api.callOk('GET', `/v2/policies/${policyId}?teamId=${ops}`)).data;
      // The policy service of one editor, whose transaction starts only once another edit is done.
      const realDb = api.app.context.db;
      let between: (() => Promise<void>) | undefined;
      const gated = new Proxy(realDb, {
        get(target, prop) {
          if (prop === 'transaction')
            return () => {
              const builder = target.transaction();
              return {
                execute: async (work: (tx: Tx) => Promise<unknown>) => {
                  const then = between;
                  between = undefined;
                  await then?.();
                  return builder.execute(work);
                },
              };
            };
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as Db;
      const orgId = (await db.query('SELECT org_id FROM teams WHERE id = $1', [ops])).rows[0].org_id;
      const admin: Principal = {
        orgId,
        apiKeyId: randomUUID(),
        userId: undefined,
        username: undefined,
        fullName: undefined,
        role: 'owner',
      };
      const service = createNotificationPoliciesService({ db: gated, clock: systemClock });
      // The other edit raises the count to 5: the alert, occurring twice more, is still held.
      between = async () => {
        await api.callOk('PUT', `/v2/policies/${policyId}?teamId=${ops}`, {
          ...read,
          deduplicationAction: { deduplicationActionType: 'value-based', count: 5 },
        });
        await worker.idle();
        await occur();
        await occur();
        assert.equal(await holds(alertId), 1, 'three times is not five');
      };
      // This one, read at 3, sets 3 again (and a description): from 5, what the alert held meets.
      await service.update(admin, ops, policyId, { ...read, policyDescription: 'edited' } as AnyPolicyBody);
      assert.equal(between, undefined, 'the other edit came in between');
      await worker.idle();
      assert.equal(await holds(alertId), 0, 'the hold is let go');
      assert.ok((await messages(alertId)) > 0, 'the team is paged');
    } finally {
      await worker.stop();
    }
    await api.callOk('DELETE', `/v2/policies/${policyId}?teamId=${ops}`);
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
