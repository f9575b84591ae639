import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AlertEvent } from '../alerts/events.js';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { AlertEventConsumer } from './consumers.js';

/** The durable side: events reach consumers through their queues; snoozes end on time. */

const received: AlertEvent[] = [];
let failOnce = true;
const recorder: AlertEventConsumer = {
  name: 'test-recorder',
  label: 'A test consumer',
  types: 'all',
  handles: () => true,
  async handle(event) {
    if (event.type === 'priority_changed' && failOnce) {
      failOnce = false;
      throw new Error('transient consumer failure');
    }
    received.push(event);
  },
};

let server: TestServer;
before(async () => {
  server = await startTestServer({ consumers: [recorder] });
});
after(async () => {
  await server.stop();
});

async function createAlert(body: object): Promise<string> {
  const res = await server.call('POST', '/v2/alerts', body);
  const status = await server.call('GET', `/v2/alerts/requests/${res.body.requestId}`);
  return status.body.data.alertId;
}

describe('alert events', () => {
  it('delivers each change to the consumers with its typed payload', async () => {
    const alertId = await createAlert({ message: 'events', alias: 'engine-events', priority: 'P3' });
    await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'alice' });
    await server.call('POST', `/v2/alerts/${alertId}/notes`, { note: 'on it', user: 'alice' });
    await server.call('POST', `/v2/alerts/${alertId}/close`, { user: 'alice' });
    const types = await waitFor('four events', async () => {
      const mine = received.filter((e) => e.alertId === alertId).map((e) => e.type);
      return mine.length >= 4 ? mine : undefined;
    });
    assert.deepEqual([...types].sort(), ['acknowledged', 'closed', 'created', 'note_added']);
    const ack = received.find((e) => e.alertId === alertId && e.type === 'acknowledged');
    assert.equal(ack?.actor.name, 'alice');
    const note = received.find((e) => e.alertId === alertId && e.type === 'note_added');
    assert.equal(note && note.type === 'note_added' ? note.note : undefined, 'on it');
  });

  it('retries an event whose consumer failed', async () => {
    const alertId = await createAlert({ message: 'retry', alias: 'engine-retry', priority: 'P3' });
    await server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' });
    // The delivery is retried after its backoff (about 1 s for the first retry).
    const event = await waitFor(
      'the retried priority event',
      async () => received.find((e) => e.alertId === alertId && e.type === 'priority_changed'),
      20000,
    );
    assert.equal(event.type === 'priority_changed' ? `${event.from}->${event.to}` : '', 'P3->P1');
    assert.equal(failOnce, false);
  });
});

describe('snooze', () => {
  it('ends a snooze when its time comes, from the alert row', async () => {
    const alertId = await createAlert({ message: 'snooze', alias: 'engine-snooze' });
    const endTime = new Date(Date.now() + 1500).toISOString();
    const res = await server.call('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    assert.equal(res.status, 202);
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.snoozed, true);
    // The end of the snooze is the alert's own snoozed_until: no job of its own to go missing.
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const row = await client.query(`SELECT snoozed_until FROM alerts WHERE id = $1`, [alertId]);
      assert.equal(new Date(row.rows[0].snoozed_until).toISOString(), endTime);
    } finally {
      await client.end();
    }
    await waitFor('the snooze to end', async () => {
      const alert = await server.call('GET', `/v2/alerts/${alertId}`);
      return alert.body.data.snoozed === false;
    });
    const logs = await server.call('GET', `/v2/alerts/${alertId}/logs`);
    assert.ok((logs.body.data as { log: string }[]).some((l) => l.log === 'Snooze ended'));
    await waitFor('the snooze_ended event', async () =>
      received.some((e) => e.alertId === alertId && e.type === 'snooze_ended'),
    );
  });
});

describe('operations', () => {
  it('reports health, readiness and the OpenAPI document', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of [
      '/v2/alerts',
      '/v2/alerts/{identifier}/close',
      '/v2/alerts/requests/{requestId}',
      '/v2/users',
      '/v2/teams',
      '/v2/users/{identifier}/contacts',
      '/v2/users/{identifier}/notification-rules',
      '/v2/schedules',
      '/v2/schedules/{identifier}/timeline',
      '/v2/escalations',
      '/v2/teams/{identifier}/routing-rules',
      '/v2/alerts/{identifier}/escalate',
    ]) {
      assert.ok(doc.paths[path], `OpenAPI documents ${path}`);
    }
    assert.equal((await fetch(`${server.url}/docs`)).status, 200);
  });
});

describe('routing after a backlog', () => {
  it('routes by the rule that applied when the alert was created, or the team added, not when the engine got to it', async () => {
    const MINUTE = 60_000;
    const clock = new ShiftedClock();
    // Hours ahead of the system clock: a rule picked at the alert's system time would miss as well.
    clock.advance(5 * 60 * MINUTE);
    const run = randomUUID().slice(0, 8);
    // No worker yet: the alert's `created` event waits, as in a backlog.
    const api = await startTestServer({ clock, role: 'api' });
    let worker: TestServer | undefined;
    const db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    try {
      const person = `router-${run}@example.com`;
      await api.callOk('POST', '/v2/users', { username: person, fullName: 'Router', role: { name: 'User' } });
      const team = (
        await api.callOk('POST', '/v2/teams', {
          name: `Routing ${run}`,
          members: [{ user: { username: person } }],
        })
      ).data.id as string;
      await api.callOk('POST', '/v2/escalations', {
        name: `Day ${run}`,
        rules: [
          {
            condition: 'if-not-acked',
            notifyType: 'default',
            delay: { timeAmount: 0 },
            recipient: { type: 'user', username: person },
          },
        ],
      });
      // "Working hours": from 25 to 10 minutes before now, on the engine's clock (UTC).
      const at = (ms: number) => {
        const time = new Date(clock.now().getTime() + ms);
        return { hour: time.getUTCHours(), min: time.getUTCMinutes() };
      };
      const [from, to] = [at(-25 * MINUTE), at(-10 * MINUTE)];
      await api.callOk('POST', `/v2/teams/${team}/routing-rules`, {
        name: 'Working hours',
        timezone: 'UTC',
        timeRestriction: {
          type: 'time-of-day',
          restriction: { startHour: from.hour, startMin: from.min, endHour: to.hour, endMin: to.min },
        },
        notify: { type: 'escalation', name: `Day ${run}` },
      });
      await api.callOk('POST', `/v2/teams/${team}/routing-rules`, {
        name: 'After hours',
        notify: { type: 'none' },
      });
      const alertOf = async (body: object) => {
        const created = await api.callOk('POST', '/v2/alerts', body);
        return waitFor('the alert', async () => {
          const status = await api.call('GET', `/v2/alerts/requests/${created.requestId}`);
          return status.body.data?.alertId as string | undefined;
        });
      };
      const backdate = (alertId: string, minutes: number) =>
        db.query(`UPDATE alerts SET created_at = created_at - $2 * interval '1 minute' WHERE id = $1`, [
          alertId,
          minutes,
        ]);
      const startWorker = () =>
        startTestServer({
          databaseUrl: api.databaseUrl,
          apiKey: api.key,
          clock,
          role: 'worker',
          engineIntervalMs: 100,
        });
      // Created 30 minutes ago, before working hours, with no responder; the engine has seen it.
      const added = await alertOf({ message: `added late ${run}` });
      worker = await startWorker();
      await waitFor('the alert to be handled', async () => {
        const { rows } = await db.query('SELECT 1 FROM alert_logs WHERE alert_id = $1 AND log = $2', [
          added,
          'The alert has no responders: nobody is notified',
        ]);
        return rows.length > 0;
      });
      await worker.stop();
      worker = undefined;
      await backdate(added, 30);
      // The team added 20 minutes ago, inside working hours; the engine gets to it only now.
      await api.callOk('POST', `/v2/alerts/${added}/responders`, { responder: { type: 'team', id: team } });
      const job = await db.query<{ id: string; at: string }>(
        `SELECT id, payload->>'at' AS at FROM outbox_jobs
          WHERE payload->>'alertId' = $1 AND payload->>'type' = 'responder_added'`,
        [added],
      );
      const event = job.rows[0];
      assert.ok(event, 'the responder_added event waits in the outbox');
      await db.query(`UPDATE outbox_jobs SET payload = jsonb_set(payload, '{at}', $2::jsonb) WHERE id = $1`, [
        event.id,
        JSON.stringify(new Date(Date.parse(event.at) - 20 * MINUTE).toISOString()),
      ]);
      // Created 20 minutes ago, inside working hours; the engine handles it only now, after them.
      const created = await alertOf({
        message: `routed late ${run}`,
        responders: [{ type: 'team', id: team }],
      });
      await backdate(created, 20);

      worker = await startWorker();
      const routed = (alertId: string) =>
        waitFor('the alert to be routed', async () => {
          const { rows } = await db.query<{ log: string }>(
            `SELECT log FROM alert_logs WHERE alert_id = $1 AND log LIKE 'Team %: %' ORDER BY id`,
            [alertId],
          );
          return rows[0]?.log;
        });
      const working = `Team Routing ${run}: routing rule "Working hours"; escalating with Day ${run}`;
      assert.equal(await routed(created), working, 'at its creation');
      assert.equal(await routed(added), working, 'when the team was added');
    } finally {
      await db.end();
      await worker?.stop();
      await api.stop();
    }
  });
});
