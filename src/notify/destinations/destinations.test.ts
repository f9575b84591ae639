import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ShiftedClock } from '../../work/clock.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import type { NotificationChannel, OutgoingNotification } from '../channel.js';

/**
 * Destinations end to end on the real server: a message goes to the channel of its destination type, a
 * throttled type makes messages to one address wait their turn (none is lost), and a message can go to
 * a destination that is not a person.
 */

const clock = new ShiftedClock();
const received: { type: string; message: OutgoingNotification }[] = [];
function recording(type: string): NotificationChannel {
  return {
    type,
    async send(message) {
      received.push({ type, message });
      return { status: 'sent', providerId: `${type}-${received.length}` };
    },
  };
}

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await server.call(method, path, body);
  assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function createAlert(message: string): Promise<string> {
  const created = await call('POST', '/v2/alerts', {
    message,
    responders: [{ type: 'team', name: `Phones ${run}` }],
  });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.body.data as Json[]).map((l) => l.log as string);
}

before(async () => {
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    channels: [recording('sms'), recording('test-room')],
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  const pat = `pat-${run}@example.com`;
  await call('POST', '/v2/users', { username: pat, fullName: 'Pat', role: { name: 'User' } });
  // Pat is paged by text only, one minute after an alert (the default wait of an SMS step).
  const sms = await call('POST', `/v2/users/${pat}/contacts`, { method: 'sms', to: '+1 415 555 0123' });
  // A phone is paged once verified (twilio.test.ts verifies one with a real code).
  await db.query(`UPDATE contact_methods SET verified_at = now() WHERE id = $1`, [sms.data.id]);
  const rules = await call('GET', `/v2/users/${pat}/notification-rules`);
  await call('PATCH', `/v2/users/${pat}/notification-rules/${rules.data[0].id}`, {
    steps: [{ contact: { method: 'sms', to: '+14155550123' }, sendAfter: { timeAmount: 1 } }],
  });
  await call('POST', '/v2/teams', {
    name: `Phones ${run}`,
    members: [{ user: { username: `pat-${run}@example.com` }, role: 'user' }],
  });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('an SMS storm to one phone', () => {
  it('sends one text a minute to one number; the rest wait their turn and none is lost', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await createAlert(`storm ${i} ${run}`));
    // An SMS step waits a minute by default (people get the quiet channels first).
    const planned = await waitFor('three texts planned', async () => {
      const rows = await db.query(`SELECT count(*)::int AS n FROM notifications WHERE method = 'sms'`);
      return rows.rows[0].n === 3 || undefined;
    });
    assert.ok(planned);
    clock.advance(60_000);
    await waitFor('the first text', async () => received.length >= 1 || undefined);
    const waiting = await waitFor('two texts put back to wait', async () => {
      const rows = await db.query(
        `SELECT attempts, last_error FROM notifications WHERE method = 'sms' AND state = 'pending'`,
      );
      return rows.rows.length === 2 ? rows.rows : undefined;
    });
    for (const row of waiting) {
      assert.equal(row.attempts, 0, 'waiting for the throttle is not a failed attempt');
      assert.match(row.last_error, /^throttled:/);
    }
    assert.equal(received.length, 1);
    assert.equal(received[0]?.message.to.address, '+14155550123');
    assert.equal(received[0]?.message.to.name, 'Pat');

    const lines = (await Promise.all(ids.map(logs))).flat();
    assert.equal(lines.filter((l) => l === 'SMS sent to Pat').length, 1, lines.join('\n'));
    assert.equal(
      lines.filter((l) =>
        /^SMS waits (\d+ min )?\d+ s for its turn: at most 1 in 1 min 0 s to one address$/.test(l),
      ).length,
      2,
      lines.join('\n'),
    );

    // This channel sends one message at a time (Twilio's bundles them: twilio.test.ts).
    clock.advance(60_000);
    await waitFor('the second text', async () => received.length >= 2 || undefined);
    clock.advance(60_000);
    await waitFor('the third text', async () => received.length >= 3 || undefined);
    // The channel has the text before its outcome is recorded.
    const states = await waitFor('the three outcomes recorded', async () => {
      const rows = await db.query(`SELECT state, attempts FROM notifications WHERE method = 'sms'`);
      return rows.rows.every((r) => r.state !== 'sending') ? rows.rows : undefined;
    });
    assert.deepEqual(
      states.map((r) => [r.state, r.attempts]),
      [
        ['sent', 1],
        ['sent', 1],
        ['sent', 1],
      ],
    );
    assert.equal(new Set(received.map((r) => r.message.alert.id)).size, 3, 'one text per alert');
  });
});

describe('a destination that is not a person', () => {
  it('gets the message under its own name, with a link to view and none that acts as someone', async () => {
    const alertId = await createAlert(`room ${run}`);
    const alert = await db.query(`SELECT org_id FROM alerts WHERE id = $1`, [alertId]);
    await db.query(
      `INSERT INTO notifications (idempotency_key, org_id, alert_id, method, address, destination_name, kind, reason, due_at)
       VALUES ($1, $2, $3, 'test-room', 'room-7', '#security', 'create-alert', 'the team room', $4)`,
      [`room:${alertId}`, alert.rows[0].org_id, alertId, clock.now()],
    );
    clock.advance(1);
    const got = await waitFor('the room message', async () => received.find((r) => r.type === 'test-room'));
    assert.equal(got.message.to.address, 'room-7');
    assert.equal(got.message.to.name, '#security');
    assert.equal(got.message.to.userId, undefined);
    assert.deepEqual(Object.keys(got.message.links), ['view']);
    await waitFor(
      'the log line',
      async () => (await logs(alertId)).includes('test-room sent to #security') || undefined,
    );
  });

  it('is refused by the database without a name, so the log can always say who got it', async () => {
    await assert.rejects(
      db.query(
        `INSERT INTO notifications (idempotency_key, org_id, alert_id, method, address, kind, due_at)
         SELECT 'nameless', org_id, id, 'test-room', 'room-8', 'create-alert', now() FROM alerts LIMIT 1`,
      ),
      /notifications_recipient/,
    );
  });
});
