import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AlertEvent } from '../alerts/events.js';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import type { AlertEventConsumer } from './consumers.js';

/** The durable side: events reach consumers through their queues; snoozes end on time. */

const received: AlertEvent[] = [];
let failOnce = true;
const recorder: AlertEventConsumer = {
  name: 'test-recorder',
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
