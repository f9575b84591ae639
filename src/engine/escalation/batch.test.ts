import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * The engine runs a batch's due steps together, and only if that fails, each run on its own: a run
 * that cannot go on is set aside alone, and the others' steps run once, with one line each.
 */

const clock = new ShiftedClock();
let server: TestServer;
const person = `batch-${randomUUID().slice(0, 8)}@example.com`;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await server.call(method, path, body);
  assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function createAlert(message: string): Promise<string> {
  const res = await call('POST', '/v2/alerts', { message, responders: [{ type: 'team', name: 'Batch' }] });
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.body.data as Json[]).map((l) => l.log as string);
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  await call('POST', '/v2/users', { username: person, fullName: 'Batch person', role: { name: 'User' } });
  await call('POST', '/v2/teams', { name: 'Batch', members: [{ user: { username: person } }] });
  await call('POST', '/v2/escalations', {
    name: 'Batch policy',
    rules: [0, 1, 30].map((minutes) => ({
      condition: 'if-not-acked',
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient: { type: 'user', username: person },
    })),
  });
  await call('PUT', '/v2/teams/Batch/routing-rules/default?teamIdentifierType=name', {
    notify: { type: 'escalation', name: 'Batch policy' },
  });
});

after(async () => {
  await server?.stop();
});

describe('a batch of due steps', () => {
  it('sets aside the run that fails, alone; the others run once', async () => {
    const ids = [
      await createAlert('steady one'),
      await createAlert('broken'),
      await createAlert('steady two'),
    ];
    const [steadyOne, broken, steadyTwo] = ids as [string, string, string];
    for (const id of ids)
      await waitFor('the first rule', async () =>
        (await logs(id)).some((l) => l.startsWith('Batch policy rule 1')) ? true : undefined,
      );
    const db = server.app.context.db;
    // PostgreSQL refuses the broken alert's messages from now on.
    await sql`
      CREATE FUNCTION batch_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.alert_id = ${sql.lit(broken)}::uuid THEN RAISE EXCEPTION 'refused for the test'; END IF;
        RETURN NEW;
      END $$`.execute(db);
    await sql`CREATE TRIGGER batch_test_refuse BEFORE INSERT ON notifications
              FOR EACH ROW EXECUTE FUNCTION batch_test_refuse()`.execute(db);

    clock.advance(61_000);
    for (const id of [steadyOne, steadyTwo]) {
      await waitFor('the second rule', async () =>
        (await logs(id)).some((l) => l.startsWith('Batch policy rule 2')) ? true : undefined,
      );
    }
    const failed = await waitFor('the failed step on the log', async () =>
      (await logs(broken)).find((l) => l.includes('a step failed')),
    );
    assert.match(failed, /refused for the test.*trying again in 1 min/);
    // Once the engine has done all that is due, nothing has run twice.
    await server.idle();
    for (const id of [steadyOne, steadyTwo]) {
      const lines = (await logs(id)).filter((l) => l.startsWith('Batch policy rule 2'));
      assert.equal(lines.length, 1, lines.join('\n'));
    }
    assert.equal((await logs(broken)).filter((l) => l.startsWith('Batch policy rule 2')).length, 0);
    const runs = await db
      .selectFrom('alert_escalations')
      .select(['alert_id', 'step', 'next_at'])
      .where('alert_id', 'in', ids)
      .execute();
    const stepOf = new Map(runs.map((r) => [r.alert_id, r]));
    assert.equal(stepOf.get(steadyOne)?.step, 2);
    assert.equal(stepOf.get(steadyTwo)?.step, 2);
    assert.equal(stepOf.get(broken)?.step, 1);
    const retryIn = (stepOf.get(broken)?.next_at?.getTime() ?? 0) - clock.now().getTime();
    assert.ok(retryIn > 30_000 && retryIn <= 60_000, `retried in ${retryIn} ms`);
  });
});

describe('a burst of new alerts', () => {
  it('writes each new run once, as its first step leaves it, and pages each alert once', async () => {
    // Without workers the alerts' events wait; a worker started after them takes them as one batch.
    const api = await startTestServer({ role: 'api', clock });
    let worker: TestServer | undefined;
    try {
      const ok = async (method: string, path: string, body?: unknown) => {
        const res = await api.call(method, path, body);
        assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
        return res.body;
      };
      await ok('POST', '/v2/users', { username: person, fullName: 'Batch person', role: { name: 'User' } });
      for (const [team, minutes] of [
        ['Now', [0, 1]],
        ['Later', [5]],
      ] as const) {
        await ok('POST', '/v2/teams', { name: team, members: [{ user: { username: person } }] });
        await ok('POST', '/v2/escalations', {
          name: `${team} policy`,
          rules: minutes.map((m) => ({
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: m },
            recipient: { type: 'user', username: person },
          })),
        });
        await ok('PUT', `/v2/teams/${team}/routing-rules/default?teamIdentifierType=name`, {
          notify: { type: 'escalation', name: `${team} policy` },
        });
      }
      const responders = (...teams: string[]) => teams.map((name) => ({ type: 'team', name }));
      const made = await Promise.all(
        [responders('Now'), responders('Now'), responders('Now', 'Later'), responders('Later')].map(
          async (r, i) => {
            const res = await ok('POST', '/v2/alerts', { message: `burst ${i}`, responders: r });
            return waitFor('the alert', async () => {
              const status = await api.call('GET', `/v2/alerts/requests/${res.requestId}`);
              return status.body.data?.alertId as string | undefined;
            });
          },
        ),
      );
      const db = api.app.context.db;
      const runsOf = () =>
        db
          .selectFrom('alert_escalations')
          .select([
            'id',
            'alert_id',
            'source',
            'state',
            'step',
            'base_at',
            'next_at',
            'created_at',
            'updated_at',
          ])
          .where('alert_id', 'in', made)
          .execute();
      assert.equal((await runsOf()).length, 0, 'no run before a worker');

      worker = await startTestServer({
        databaseUrl: api.databaseUrl,
        role: 'worker',
        apiKey: api.key,
        clock,
        engineIntervalMs: 100,
      });
      const runs = await waitFor('the runs', async () => {
        const rows = await runsOf();
        return rows.length === 5 ? rows : undefined;
      });
      await worker.idle();
      const paged = await db
        .selectFrom('notifications')
        .select(['escalation_run_id'])
        .where('alert_id', 'in', made)
        .execute();
      for (const run of runs) {
        const policy = run.source.startsWith('team:') ? await teamPolicy(api, run.source.slice(5)) : '';
        const sinceBase = (run.next_at?.getTime() ?? 0) - run.base_at.getTime();
        const messages = paged.filter((n) => n.escalation_run_id === run.id).length;
        if (policy === 'Now policy') {
          // Rule 1 ran; the run waits for rule 2, a minute after its start.
          assert.deepEqual(
            { state: run.state, step: run.step, sinceBase },
            { state: 'active', step: 1, sinceBase: 60_000 },
          );
          assert.ok(messages > 0, 'rule 1 paged');
          // Written once, as rule 1 left it: an update would have stamped updated_at later.
          assert.equal(run.updated_at.getTime(), run.created_at.getTime(), 'the run was not updated');
        } else {
          assert.deepEqual(
            { state: run.state, step: run.step, sinceBase },
            { state: 'active', step: 0, sinceBase: 300_000 },
          );
          assert.equal(messages, 0, 'nothing is due yet');
        }
      }
      const lines = async (id: string, rule: string) => {
        const res = await api.call('GET', `/v2/alerts/${id}/logs?order=asc&limit=100`);
        return (res.body.data as Json[]).filter((l) => String(l.log).startsWith(rule)).length;
      };
      for (const [i, id] of made.entries()) assert.equal(await lines(id, 'Now policy rule 1'), i < 3 ? 1 : 0);

      // Each run goes on from where it was written.
      clock.advance(61_000);
      for (const id of made.slice(0, 3))
        await waitFor('rule 2', async () =>
          (await lines(id, 'Now policy rule 2')) === 1 ? true : undefined,
        );
      await worker.idle();
      for (const [i, id] of made.entries()) assert.equal(await lines(id, 'Now policy rule 2'), i < 3 ? 1 : 0);
    } finally {
      await worker?.stop();
      await api.stop();
    }
  });
});

/** The name of the policy a team's default routing rule notifies. */
async function teamPolicy(at: TestServer, teamId: string): Promise<string> {
  const res = await at.call('GET', `/v2/teams/${teamId}/routing-rules`);
  const rule = (res.body.data as Json[])[0];
  return String(rule?.notify?.name ?? '');
}
