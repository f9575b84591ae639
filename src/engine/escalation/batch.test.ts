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
